-- village_venue: 行政村 whose village organization has an activity venue.
select
    'village_venue' as target_id,
    u.district_code,
    u.period,
    sum(case when u.has_venue then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '行政村'
group by u.district_code, u.period
