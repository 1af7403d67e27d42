-- dev_process: the year's admissions (both halves), on the H2 row; each counts when recommended,
-- pre-reviewed and publicized, and activist for at least a year before admission.
with items as (
    select
        {{ admission_item_columns(dbt.concat(["cast(a.year as " ~ dbt.type_string() ~ ")", "'H2'"])) }},
        case
            when a.is_recommended and a.is_prereviewed and a.is_publicized and a.is_process_complete then 1
            else 0
        end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    {{ admission_items_from() }}
)

{{ target_items('dev_process', 'member', "'process_incomplete'") }}
