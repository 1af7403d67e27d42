-- dev_female: women among the admissions of each period (the mart accumulates from 2006H1).
-- The sum of its items: items/int_target_items__dev_female.sql.
{{ target_from_items('dev_female') }}
