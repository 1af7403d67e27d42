-- 单位: host units at the end of each period. "Covered": the covering organization is one of the
-- same submission whose type is 党委, 党工委, 党总支, 党支部 or 联合党支部 (targets.md).
{{ incremental_fact() }}

select
    c.district_code,
    c.period,
    u.submission_id,
    u.source_row,
    u.unit_code,
    u.unit_name,
    u.unit_type,
    u.covering_org_code,
    o.org_type as covering_org_type,
    coalesce(o.org_type in ('党委', '党工委', '党总支', '党支部', '联合党支部'), false) as is_covered,
    u.employee_count,
    u.member_count,
    coalesce(u.is_high_tech, false) as is_high_tech,
    u.rating,
    u.board_members,
    u.cross_appointed,
    u.operating_status,
    coalesce(u.has_venue, false) as has_venue,
    coalesce(u.is_demo_site, false) as is_demo_site,
    coalesce(u.has_instructor, false) as has_instructor,
    u.built_date,
    u.unit_type in ('区县党委', '系统党委') as is_reporting_committee
from {{ ref('stg_units') }} as u
inner join {{ ref('int_current_submissions') }} as c on u.submission_id = c.submission_id
left join {{ ref('fct_organization_snapshot') }} as o
    on u.submission_id = o.submission_id and u.covering_org_code = o.org_code
where not u.is_quarantined and {{ fact_batch('c', ref('stg_units')) }}
