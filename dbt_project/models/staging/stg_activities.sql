select
    cast(submission_id as {{ dbt.type_string() }}) as submission_id,
    cast(source_row as {{ dbt.type_bigint() }}) as source_row,
    cast(quarantined as {{ dbt.type_boolean() }}) as is_quarantined,
    cast(activity_id as {{ dbt.type_string() }}) as activity_id,
    cast(org_code as {{ dbt.type_string() }}) as org_code,
    cast(activity_type as {{ dbt.type_string() }}) as activity_type,
    cast(topic as {{ dbt.type_string() }}) as topic,
    cast(organizer as {{ dbt.type_string() }}) as organizer,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(participants as {{ dbt.type_bigint() }}) as participants
from {{ source('raw', 'activities') }}
