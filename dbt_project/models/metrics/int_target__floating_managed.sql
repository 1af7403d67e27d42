-- floating_managed: floating members (流动党员) for whom a managing organization is recorded.
select
    'floating_managed' as target_id,
    m.district_code,
    m.period,
    sum(case when m.floating_managed_by is not null then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_member_snapshot') }} as m
where m.is_floating
group by m.district_code, m.period
