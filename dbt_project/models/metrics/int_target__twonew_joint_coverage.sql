-- twonew_joint_coverage: 两新 units with 1-2 members covered (typically by a 联合党支部).
-- The sum of its items: items/int_target_items__twonew_joint_coverage.sql.
{{ target_from_items('twonew_joint_coverage') }}
