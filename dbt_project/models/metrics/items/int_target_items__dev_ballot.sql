-- dev_ballot: the year's admissions (both halves), on the H2 row; each counts when decided by a
-- branch-meeting ballot.
with items as (
    select
        {{ admission_item_columns(dbt.concat(["cast(a.year as " ~ dbt.type_string() ~ ")", "'H2'"])) }},
        case when a.is_ballot then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    {{ admission_items_from() }}
)

{{ target_items('dev_ballot', 'member', "'no_ballot'") }}
