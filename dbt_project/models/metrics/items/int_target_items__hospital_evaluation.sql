-- hospital_evaluation: 医疗卫生机构 units (H2 snapshot) covered by a 党委; each counts when that 党委
-- had a 检查评估 activity in the year (either half).
{{ committee_evaluation_items('hospital_evaluation', '医疗卫生机构') }}
