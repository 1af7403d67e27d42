{#
  The periods and reporting units seeds with their columns named and typed once: dim_period and
  dim_district build on them, and so do the intermediate models, which come before the core layer
  and so cannot read its dimensions.
#}
{% macro typed_periods() %}
    select
        cast(period as {{ dbt.type_string() }}) as period,
        cast(year as {{ dbt.type_int() }}) as year,
        cast(half as {{ dbt.type_int() }}) as half,
        cast(period_index as {{ dbt.type_int() }}) as period_index,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date
    from {{ ref('periods') }}
{% endmacro %}

{% macro typed_reporting_units() %}
    select
        cast(unit_code as {{ dbt.type_string() }}) as district_code,
        cast(unit_name as {{ dbt.type_string() }}) as district_name,
        cast(kind as {{ dbt.type_string() }}) as kind,
        cast(area_group as {{ dbt.type_string() }}) as area_group,
        cast(reports_from as {{ dbt.type_string() }}) as reports_from,
        cast(reports_to as {{ dbt.type_string() }}) as reports_to,
        cast(successor_code as {{ dbt.type_string() }}) as successor_code
    from {{ ref('reporting_units') }}
{% endmacro %}
