-- community_committee: every 社区; it counts when covered by a 党委 or 党总支.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.covering_org_type in ('党委', '党总支') then 1 else 0 end as numerator_count,
        1 as denominator_count,
        u.covering_org_type as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type = '社区'
)

{{ target_items('community_committee', 'unit', coverage_reason("'org_type_below'")) }}
