-- new_compound_org: residential compounds built on or after 2006-01-01; each counts when covered.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.is_covered then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type = '居民小区' and u.built_date >= cast('2006-01-01' as date)
)

{{ target_items('new_compound_org', 'unit', coverage_reason()) }}
