-- dev_female: women among the admissions of each period (the mart accumulates from 2006H1).
select
    'dev_female' as target_id,
    a.district_code,
    a.period,
    sum(case when a.gender = '女' then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_admission') }} as a
group by a.district_code, a.period
