-- twonew_joint_coverage: 两新 units with 1-2 members covered (typically by a 联合党支部).
select
    'twonew_joint_coverage' as target_id,
    u.district_code,
    u.period,
    sum(case when u.is_covered then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type in ('非公有制企业', '社会组织') and u.member_count between 1 and 2
group by u.district_code, u.period
