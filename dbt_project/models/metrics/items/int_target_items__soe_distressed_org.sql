-- soe_distressed_org: SOEs in 停产/关闭/破产/困难; each counts when it is covered by a party organization.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.is_covered then 1 else 0 end as numerator_count,
        1 as denominator_count,
        u.operating_status as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type in ('国有独资企业', '国有控股企业') and u.operating_status in ('停产', '关闭', '破产', '困难')
)

{{ target_items('soe_distressed_org', 'unit', coverage_reason()) }}
