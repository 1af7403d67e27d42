-- univ_evaluation: 高等院校 units (H2 snapshot) covered by a 党委 whose 党委 had a 检查评估 activity
-- in the year (either half). Organizations are matched by (district, org_code), stable across periods.
-- The sum of its items: items/int_target_items__univ_evaluation.sql.
{{ target_from_items('univ_evaluation') }}
