-- township_five_good: township committees rated 五个好 (exactly; 五好 or 先进 do not count).
-- The sum of its items: items/int_target_items__township_five_good.sql.
{{ target_from_items('township_five_good') }}
