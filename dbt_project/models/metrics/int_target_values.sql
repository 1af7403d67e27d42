-- Every implemented target's numerator and denominator per reporting unit and period, on the
-- unit's own current data. Cumulative targets give the period's flow; the mart accumulates.
{% for target_id in var('implemented_targets') %}
select
    cast(target_id as {{ dbt.type_string() }}) as target_id,
    cast(district_code as {{ dbt.type_string() }}) as district_code,
    cast(period as {{ dbt.type_string() }}) as period,
    cast(numerator as {{ dbt.type_bigint() }}) as numerator,
    cast(denominator as {{ dbt.type_bigint() }}) as denominator
from {{ ref('int_target__' ~ target_id) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
