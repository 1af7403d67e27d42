-- soe_distressed_org: distressed SOEs still covered by a party organization.
select
    'soe_distressed_org' as target_id,
    u.district_code,
    u.period,
    sum(case when u.is_covered then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where u.unit_type in ('国有独资企业', '国有控股企业') and u.operating_status in ('停产', '关闭', '破产', '困难')
group by u.district_code, u.period
