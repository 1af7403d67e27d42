select
    cast(t.target_id as {{ dbt.type_string() }}) as target_id,
    cast(t.sort_order as {{ dbt.type_int() }}) as sort_order,
    cast(t.name_zh as {{ dbt.type_string() }}) as name_zh,
    cast(t.name_en as {{ dbt.type_string() }}) as name_en,
    cast(t.quote_zh as {{ dbt.type_string() }}) as quote_zh,
    cast(t.target_kind as {{ dbt.type_string() }}) as target_kind,
    cast(t.target_value as decimal(9, 4)) as target_value,
    cast(t.deadline_period as {{ dbt.type_string() }}) as deadline_period,
    cast(d.period_index as {{ dbt.type_int() }}) as deadline_index,
    cast(t.cadence as {{ dbt.type_string() }}) as cadence,
    cast(t.data_basis as {{ dbt.type_string() }}) as data_basis,
    cast(t.city_only as {{ dbt.type_boolean() }}) as is_city_only,
    cast(t.is_derived as {{ dbt.type_boolean() }}) as is_derived
from {{ ref('targets') }} as t
left join {{ ref('dim_period') }} as d on t.deadline_period = d.period
