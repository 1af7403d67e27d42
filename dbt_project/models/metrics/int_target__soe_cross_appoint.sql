-- soe_cross_appoint: share of SOE leadership seats held by cross-appointed members (双向进入、交叉任职),
-- over SOE units that report both board_members and cross_appointed. Yearly, on the H2 snapshot.
select
    'soe_cross_appoint' as target_id,
    u.district_code,
    u.period,
    sum(u.cross_appointed) as numerator,
    sum(u.board_members) as denominator
from {{ ref('fct_unit_snapshot') }} as u
where
    u.unit_type in ('国有独资企业', '国有控股企业')
    and u.board_members is not null
    and u.cross_appointed is not null
group by u.district_code, u.period
