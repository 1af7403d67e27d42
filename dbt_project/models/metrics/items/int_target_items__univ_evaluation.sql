-- univ_evaluation: 高等院校 units (H2 snapshot) covered by a 党委; each counts when that 党委 had a
-- 检查评估 activity in the year (either half). Organizations are matched by (district, org_code),
-- stable across periods.
{{ committee_evaluation_items('univ_evaluation', '高等院校') }}
