-- dev_under35: admissions aged 35 or under (var dev_age_limit) at admission, in completed years
-- (the mart accumulates from 2006H1).
select
    'dev_under35' as target_id,
    a.district_code,
    a.period,
    sum(case when a.age_at_admission <= {{ var('dev_age_limit') }} then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_admission') }} as a
group by a.district_code, a.period
