-- Every problem found in a received file, with where it is (file, sheet, Excel row, column) and
-- what rule it broke, in Chinese and English. Values are masked at ingest (national IDs as
-- 120104********1234); names never arrive. For auditors and district clerks.
select
    cast(p.submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(s.district_code as {{ dbt.type_string() }}) as district_code,
    cast(s.period as {{ dbt.type_string() }}) as period,
    cast(s.version as {{ dbt.type_int() }}) as version,
    cast(s.status as {{ dbt.type_string() }}) as submission_status,
    cast(p.file_name as {{ dbt.type_string() }}) as file_name,
    cast(p.sheet_name as {{ dbt.type_string() }}) as sheet_name,
    cast(p.excel_row as {{ dbt.type_bigint() }}) as excel_row,
    cast(p.column_header as {{ dbt.type_string() }}) as column_header,
    cast(p.masked_value as {{ dbt.type_string() }}) as masked_value,
    cast(p.rule_id as {{ dbt.type_string() }}) as rule_id,
    cast(p.severity as {{ dbt.type_string() }}) as severity,
    cast(p.message_zh as {{ dbt.type_string() }}) as message_zh,
    cast(p.message_en as {{ dbt.type_string() }}) as message_en,
    cast(s.received_at as {{ dbt.type_timestamp() }}) as received_at
from {{ ref('stg_problems') }} as p
inner join {{ ref('stg_submissions') }} as s on p.submission_id = s.submission_id
