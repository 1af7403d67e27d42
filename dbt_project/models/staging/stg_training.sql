select
    cast(submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(source_row as {{ dbt.type_bigint() }}) as source_row,
    cast(quarantined as {{ dbt.type_boolean() }}) as is_quarantined,
    cast(activity_id as {{ dbt.type_string() }}) as activity_id,
    cast(person_key as {{ dbt.type_string() }}) as person_key,
    cast(days as double) as training_days
from {{ source('raw', 'training') }}
