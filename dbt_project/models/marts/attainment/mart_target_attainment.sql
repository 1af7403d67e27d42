-- One row per target × reporting unit × period (every period the unit reports, submitted or not),
-- each unit on its own data, plus the city (120000). See macros/target_attainment.sql.
{{ target_attainment('district_code') }}
