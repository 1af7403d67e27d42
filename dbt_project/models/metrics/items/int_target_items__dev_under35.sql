-- dev_under35: the period's admissions (the mart accumulates from 2006H1); each counts when aged var
-- dev_age_limit (35) or under at admission, in completed years.
with items as (
    select
        {{ admission_item_columns('a.period') }},
        case when a.age_at_admission <= {{ var('dev_age_limit') }} then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(a.age_at_admission as {{ dbt.type_string() }}) as reason_detail,
        a.age_at_admission
    {{ admission_items_from() }}
)

{{ target_items('dev_under35', 'member', "case when i.age_at_admission is null then 'attribute_missing' else 'over_age' end") }}
