-- new_compound_org: residential compounds built on or after 2006-01-01 that are covered.
-- The sum of its items: items/int_target_items__new_compound_org.sql.
{{ target_from_items('new_compound_org') }}
