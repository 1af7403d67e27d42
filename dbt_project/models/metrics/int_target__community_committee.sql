-- community_committee: communities covered by a 党委 or 党总支.
select
    'community_committee' as target_id,
    u.district_code,
    u.period,
    sum(case when u.covering_org_type in ('党委', '党总支') then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type = '社区'
group by u.district_code, u.period
