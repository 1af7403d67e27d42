-- dev_hs_plus: admissions with senior high school or more (the mart accumulates from 2006H1).
-- The sum of its items: items/int_target_items__dev_hs_plus.sql.
{{ target_from_items('dev_hs_plus') }}
