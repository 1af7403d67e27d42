-- township_five_good: township committees rated 五个好 (exactly; 五好 or 先进 do not count).
select
    'township_five_good' as target_id,
    u.district_code,
    u.period,
    sum(case when u.rating = '五个好' then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '乡镇'
group by u.district_code, u.period
