-- new_compound_org: residential compounds built on or after 2006-01-01 that are covered.
select
    'new_compound_org' as target_id,
    u.district_code,
    u.period,
    sum(case when u.is_covered then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '居民小区' and u.built_date >= cast('2006-01-01' as date)
group by u.district_code, u.period
