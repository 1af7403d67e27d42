-- village_five_good: village organizations rated 五个好.
-- The sum of its items: items/int_target_items__village_five_good.sql.
{{ target_from_items('village_five_good') }}
