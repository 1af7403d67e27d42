-- twonew_org_coverage: 两新 units with 3 or more members covered by their own (not a joint) organization.
-- The sum of its items: items/int_target_items__twonew_org_coverage.sql.
{{ target_from_items('twonew_org_coverage') }}
