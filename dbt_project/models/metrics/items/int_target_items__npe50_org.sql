-- npe50_org: non-public enterprises of 50+ staff or high-tech; each counts when covered.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.is_covered then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type = '非公有制企业' and (u.employee_count >= 50 or u.is_high_tech)
)

{{ target_items('npe50_org', 'unit', coverage_reason()) }}
