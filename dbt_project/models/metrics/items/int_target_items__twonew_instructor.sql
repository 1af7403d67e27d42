-- twonew_instructor: 两新 units without members; each counts when an instructor or liaison is assigned.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.has_instructor then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type in ('非公有制企业', '社会组织') and u.member_count = 0
)

{{ target_items('twonew_instructor', 'unit', "'no_instructor'") }}
