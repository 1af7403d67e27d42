-- npe30_member: non-public enterprises of 30 or more staff that have members.
-- The sum of its items: items/int_target_items__npe30_member.sql.
{{ target_from_items('npe30_member') }}
