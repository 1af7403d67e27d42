-- dev_process: admissions of the year (both halves) through the full process: recommended,
-- pre-reviewed and publicized, and activist for at least a year before admission. On the H2 row.
-- The sum of its items: items/int_target_items__dev_process.sql.
{{ target_from_items('dev_process') }}
