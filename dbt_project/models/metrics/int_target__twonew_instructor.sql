-- twonew_instructor: 两新 units without members that have an instructor or liaison.
-- The sum of its items: items/int_target_items__twonew_instructor.sql.
{{ target_from_items('twonew_instructor') }}
