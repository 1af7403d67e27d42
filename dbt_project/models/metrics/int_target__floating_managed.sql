-- floating_managed: floating members (流动党员) for whom a managing organization is recorded.
-- The sum of its items: items/int_target_items__floating_managed.sql.
{{ target_from_items('floating_managed') }}
