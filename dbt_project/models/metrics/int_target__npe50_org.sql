-- npe50_org: non-public enterprises of 50+ staff or high-tech that are covered.
select
    'npe50_org' as target_id,
    u.district_code,
    u.period,
    sum(case when u.is_covered then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '非公有制企业' and (u.employee_count >= 50 or u.is_high_tech)
group by u.district_code, u.period
