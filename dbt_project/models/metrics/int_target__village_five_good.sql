-- village_five_good: village organizations rated 五个好.
select
    'village_five_good' as target_id,
    u.district_code,
    u.period,
    sum(case when u.rating = '五个好' then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '行政村'
group by u.district_code, u.period
