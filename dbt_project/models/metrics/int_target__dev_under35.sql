-- dev_under35: admissions aged 35 or under (var dev_age_limit) at admission, in completed years
-- (the mart accumulates from 2006H1).
-- The sum of its items: items/int_target_items__dev_under35.sql.
{{ target_from_items('dev_under35') }}
