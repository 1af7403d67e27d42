-- floating_managed: floating members (流动党员); each counts when a managing organization is recorded.
with items as (
    select
        {{ member_item_columns() }},
        case when m.floating_managed_by is not null then 1 else 0 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('fct_member_snapshot') }} as m
    where m.is_floating
)

{{ target_items('floating_managed', 'member', "'not_managed'") }}
