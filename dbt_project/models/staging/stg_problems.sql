select
    cast(submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(file_name as {{ dbt.type_string() }}) as file_name,
    cast(sheet as {{ dbt.type_string() }}) as sheet_name,
    cast(excel_row as {{ dbt.type_bigint() }}) as excel_row,
    cast(column_header as {{ dbt.type_string() }}) as column_header,
    cast(value as {{ dbt.type_string() }}) as masked_value,
    cast(rule as {{ dbt.type_string() }}) as rule_id,
    cast(severity as {{ dbt.type_string() }}) as severity,
    cast(message_zh as {{ dbt.type_string() }}) as message_zh,
    cast(message_en as {{ dbt.type_string() }}) as message_en
from {{ source('raw', 'problems') }}
