select
    cast(submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(source_row as {{ dbt.type_bigint() }}) as source_row,
    cast(quarantined as {{ dbt.type_boolean() }}) as is_quarantined,
    cast(org_code as {{ dbt.type_string() }}) as org_code,
    cast(org_name as {{ dbt.type_string() }}) as org_name,
    cast(org_type as {{ dbt.type_string() }}) as org_type,
    cast(parent_org_code as {{ dbt.type_string() }}) as parent_org_code,
    cast(established_date as date) as established_date
from {{ source('raw', 'organizations') }}
