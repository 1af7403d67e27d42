select
    cast(period as {{ dbt.type_string() }}) as period,
    cast(year as {{ dbt.type_int() }}) as year,
    cast(half as {{ dbt.type_int() }}) as half,
    cast(period_index as {{ dbt.type_int() }}) as period_index,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date
from {{ ref('periods') }}
