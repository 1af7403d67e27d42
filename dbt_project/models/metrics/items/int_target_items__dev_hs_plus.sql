-- dev_hs_plus: the period's admissions (the mart accumulates from 2006H1); each counts with senior
-- high school or more.
with items as (
    select
        {{ admission_item_columns('a.period') }},
        case when a.education in ('研究生', '大学本科', '大学专科', '中专', '高中') then 1 else 0 end as numerator_count,
        1 as denominator_count,
        a.education as reason_detail
    {{ admission_items_from() }}
)

{{ target_items('dev_hs_plus', 'member', "case when i.reason_detail is null then 'attribute_missing' else 'below_high_school' end") }}
