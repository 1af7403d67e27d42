-- twonew_joint_coverage: 两新 units with 1-2 members; each counts when covered (typically by a 联合党支部).
with items as (
    select
        {{ unit_item_columns() }},
        case when u.is_covered then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type in ('非公有制企业', '社会组织') and u.member_count between 1 and 2
)

{{ target_items('twonew_joint_coverage', 'unit', coverage_reason()) }}
