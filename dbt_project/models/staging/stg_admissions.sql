select
    cast(submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(source_row as {{ dbt.type_bigint() }}) as source_row,
    cast(quarantined as {{ dbt.type_boolean() }}) as is_quarantined,
    cast(person_key as {{ dbt.type_string() }}) as person_key,
    cast(admission_date as date) as admission_date,
    cast(application_date as date) as application_date,
    cast(activist_date as date) as activist_date,
    cast(recommended as {{ dbt.type_boolean() }}) as is_recommended,
    cast(prereviewed as {{ dbt.type_boolean() }}) as is_prereviewed,
    cast(publicized as {{ dbt.type_boolean() }}) as is_publicized,
    cast(ballot as {{ dbt.type_boolean() }}) as is_ballot
from {{ source('raw', 'admissions') }}
