-- npe30_member: non-public enterprises of 30 or more staff that have members.
select
    'npe30_member' as target_id,
    u.district_code,
    u.period,
    sum(case when u.member_count >= 1 then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '非公有制企业' and u.employee_count >= 30
group by u.district_code, u.period
