-- soe_distressed_org: distressed SOEs still covered by a party organization.
-- The sum of its items: items/int_target_items__soe_distressed_org.sql.
{{ target_from_items('soe_distressed_org') }}
