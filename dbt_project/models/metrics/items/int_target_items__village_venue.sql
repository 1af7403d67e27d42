-- village_venue: every 行政村; it counts when its village organization has an activity venue.
with items as (
    select
        {{ unit_item_columns() }},
        case when u.has_venue then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type = '行政村'
)

{{ target_items('village_venue', 'unit', "'no_venue'") }}
