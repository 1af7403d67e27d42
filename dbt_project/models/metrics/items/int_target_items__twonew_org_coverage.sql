-- twonew_org_coverage: 两新 units with 3 or more members; each counts when covered by an organization
-- of its own (a 联合党支部 does not count).
with items as (
    select
        {{ unit_item_columns() }},
        case when u.is_covered and u.covering_org_type <> '联合党支部' then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type in ('非公有制企业', '社会组织') and u.member_count >= 3
)

{{ target_items('twonew_org_coverage', 'unit', coverage_reason("'joint_branch_only'")) }}
