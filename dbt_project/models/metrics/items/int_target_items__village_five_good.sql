-- village_five_good: every 行政村; it counts when rated 五个好 exactly (五好 or 先进 do not count).
with items as (
    select
        {{ unit_item_columns() }},
        case when u.rating = '五个好' then 1 else 0 end as numerator_count,
        1 as denominator_count,
        u.rating as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where u.unit_type = '行政村'
)

{{ target_items('village_five_good', 'unit', "'rating_below'") }}
