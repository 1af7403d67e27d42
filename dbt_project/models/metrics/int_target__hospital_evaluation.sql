-- hospital_evaluation: 医疗卫生机构 units (H2 snapshot) covered by a 党委 whose 党委 had a 检查评估
-- activity in the year (either half).
-- The sum of its items: items/int_target_items__hospital_evaluation.sql.
{{ target_from_items('hospital_evaluation') }}
