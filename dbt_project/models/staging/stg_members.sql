select
    cast(submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(source_row as {{ dbt.type_bigint() }}) as source_row,
    cast(quarantined as {{ dbt.type_boolean() }}) as is_quarantined,
    cast(person_key as {{ dbt.type_string() }}) as person_key,
    cast(gender as {{ dbt.type_string() }}) as gender,
    cast(birth_date as date) as birth_date,
    cast(education as {{ dbt.type_string() }}) as education,
    cast(join_date as date) as join_date,
    cast(full_member_date as date) as full_member_date,
    cast(member_status as {{ dbt.type_string() }}) as member_status,
    cast(org_code as {{ dbt.type_string() }}) as org_code,
    cast(is_floating as {{ dbt.type_boolean() }}) as is_floating,
    cast(floating_managed_by as {{ dbt.type_string() }}) as floating_managed_by,
    cast(cadre_type as {{ dbt.type_string() }}) as cadre_type,
    cast(occupation as {{ dbt.type_string() }}) as occupation
from {{ source('raw', 'members') }}
