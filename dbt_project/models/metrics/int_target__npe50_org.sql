-- npe50_org: non-public enterprises of 50+ staff or high-tech that are covered.
-- The sum of its items: items/int_target_items__npe50_org.sql.
{{ target_from_items('npe50_org') }}
