-- soe_cross_appoint: share of SOE leadership seats held by cross-appointed members (双向进入、交叉任职),
-- over SOE units that report both board_members and cross_appointed. Yearly, on the H2 snapshot.
-- The sum of its items: items/int_target_items__soe_cross_appoint.sql.
{{ target_from_items('soe_cross_appoint') }}
