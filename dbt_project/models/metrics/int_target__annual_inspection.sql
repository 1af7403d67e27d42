-- annual_inspection: each reporting unit, each year: at least one 检查评估 activity organized by
-- 市委组织部 in either half. On the H2 row; the mart requires both halves to be accepted.
-- The sum of its items: items/int_target_items__annual_inspection.sql.
{{ target_from_items('annual_inspection') }}
