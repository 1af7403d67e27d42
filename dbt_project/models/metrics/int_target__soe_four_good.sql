-- soe_four_good: SOE leadership teams rated 四好.
select
    'soe_four_good' as target_id,
    u.district_code,
    u.period,
    sum(case when u.rating = '四好' then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type in ('国有独资企业', '国有控股企业')
group by u.district_code, u.period
