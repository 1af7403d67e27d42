-- soe_four_good: SOE leadership teams rated 四好.
-- The sum of its items: items/int_target_items__soe_four_good.sql.
{{ target_from_items('soe_four_good') }}
