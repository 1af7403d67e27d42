-- npe30_member: non-public enterprises of 30 or more staff; each counts when it has members.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.member_count >= 1 then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(u.employee_count as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type = '非公有制企业' and u.employee_count >= 30
)

{{ target_items('npe30_member', 'unit', "'no_member'") }}
