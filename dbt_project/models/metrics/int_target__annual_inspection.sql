-- annual_inspection: each reporting unit, each year: at least one 检查评估 activity organized by
-- 市委组织部 in either half. On the H2 row; the mart requires both halves to be accepted.
with inspected as (
    select
        a.district_code,
        a.year
    from {{ ref('fct_activity') }} as a
    where a.activity_type = '检查评估' and a.organizer like '%市委组织部%'
    group by a.district_code, a.year
)

select
    'annual_inspection' as target_id,
    c.district_code,
    c.period,
    case when i.district_code is null then 0 else 1 end as numerator,
    1 as denominator
from {{ ref('int_current_submissions') }} as c
left join inspected as i on c.district_code = i.district_code and c.year = i.year
where c.half = 2
