-- twonew_instructor: 两新 units without members that have an instructor or liaison.
select
    'twonew_instructor' as target_id,
    u.district_code,
    u.period,
    sum(case when u.has_instructor then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type in ('非公有制企业', '社会组织') and u.member_count = 0
group by u.district_code, u.period
