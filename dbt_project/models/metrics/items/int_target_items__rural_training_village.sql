-- rural_training_village: 村干部 members (H2 snapshot); each counts when trained at least var
-- training_days_threshold days in the year (the district's own 培训 rows of both halves).
{{ cadre_training_items('rural_training_village', '村干部') }}
