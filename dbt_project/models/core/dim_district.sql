-- Reporting units (districts, counties, municipal systems) and the city. A boundary change is a
-- row of the reporting_units seed; successors are followed up to three steps.
with units as (
{{ typed_reporting_units() }}
)

select
    u.district_code,
    u.district_name,
    u.kind,
    u.area_group,
    u.reports_from,
    u.reports_to,
    u.successor_code,
    coalesce(s3.district_code, s2.district_code, s1.district_code, u.district_code) as current_district_code,
    true as is_reporting_unit
from units as u
left join units as s1 on u.successor_code = s1.district_code
left join units as s2 on s1.successor_code = s2.district_code
left join units as s3 on s2.successor_code = s3.district_code

union all

select
    '120000' as district_code,
    '天津市' as district_name,
    'city' as kind,
    cast(null as {{ dbt.type_string() }}) as area_group,
    cast(null as {{ dbt.type_string() }}) as reports_from,
    cast(null as {{ dbt.type_string() }}) as reports_to,
    cast(null as {{ dbt.type_string() }}) as successor_code,
    '120000' as current_district_code,
    false as is_reporting_unit
