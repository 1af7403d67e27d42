-- dev_hs_plus: admissions with senior high school or more (the mart accumulates from 2006H1).
select
    'dev_hs_plus' as target_id,
    a.district_code,
    a.period,
    sum(case when a.education in ('研究生', '大学本科', '大学专科', '中专', '高中') then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_admission') }} as a
group by a.district_code, a.period
