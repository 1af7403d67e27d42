-- annual_inspection: each reporting unit, each year, on its H2 row; it counts with at least one
-- 检查评估 activity organized by 市委组织部 in either half. The mart requires both halves accepted.
with inspected as (
    select
        a.district_code,
        a.year
    from {{ ref('fct_activity') }} as a
    where a.activity_type = '检查评估' and a.organizer like '%市委组织部%'
    group by a.district_code, a.year
),

items as (
    select
        c.district_code,
        c.period,
        c.submission_id,
        c.district_code as item_code,
        cast(null as {{ dbt.type_string() }}) as item_name,
        cast(null as {{ dbt.type_string() }}) as item_type,
        cast(null as {{ dbt.type_string() }}) as org_code,
        case when i.district_code is null then 0 else 1 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('int_current_submissions') }} as c
    left join inspected as i on c.district_code = i.district_code and c.year = i.year
    where c.half = 2
)

{{ target_items('annual_inspection', 'reporting_unit', "'no_inspection'") }}
