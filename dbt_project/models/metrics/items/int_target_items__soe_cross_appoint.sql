-- soe_cross_appoint: SOE units that report both board_members and cross_appointed; their board seats
-- are the denominator, the cross-appointed seats the numerator. Yearly, on the H2 snapshot.
with items as (
    select
        {{ unit_item_columns() }},
        u.cross_appointed as numerator_count,
        u.board_members as denominator_count,
        {{ dbt.concat([
            "cast(u.cross_appointed as " ~ dbt.type_string() ~ ")", "'/'",
            "cast(u.board_members as " ~ dbt.type_string() ~ ")"
        ]) }} as reason_detail
    from {{ ref('fct_unit_snapshot') }} as u
    where
        u.unit_type in ('国有独资企业', '国有控股企业')
        and u.board_members is not null
        and u.cross_appointed is not null
)

{{ target_items('soe_cross_appoint', 'unit', "'board_not_cross_appointed'") }}
