-- dev_female: the period's admissions (the mart accumulates from 2006H1); each counts when a woman.
with items as (
    select
        {{ admission_item_columns('a.period') }},
        case when a.gender = '女' then 1 else 0 end as numerator_count,
        1 as denominator_count,
        a.gender as reason_detail
    {{ admission_items_from() }}
)

{{ target_items('dev_female', 'member', "case when i.reason_detail is null then 'attribute_missing' else 'male' end") }}
