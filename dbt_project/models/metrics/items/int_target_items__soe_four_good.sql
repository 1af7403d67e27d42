-- soe_four_good: every SOE unit (国有独资企业/国有控股企业); it counts when its leadership is rated 四好.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.rating = '四好' then 1 else 0 end as numerator_count,
        1 as denominator_count,
        u.rating as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type in ('国有独资企业', '国有控股企业')
)

{{ target_items('soe_four_good', 'unit', "'rating_below'") }}
