-- rural_training_village: 村干部 members (H2 snapshot) trained at least var
-- training_days_threshold days in the year (the district's own 培训 rows of both halves).
-- The sum of its items: items/int_target_items__rural_training_village.sql.
{{ target_from_items('rural_training_village') }}
