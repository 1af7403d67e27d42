-- twonew_org_coverage: 两新 units with 3 or more members covered by their own (not a joint) organization.
select
    'twonew_org_coverage' as target_id,
    u.district_code,
    u.period,
    sum(case when u.is_covered and u.covering_org_type <> '联合党支部' then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type in ('非公有制企业', '社会组织') and u.member_count >= 3
group by u.district_code, u.period
