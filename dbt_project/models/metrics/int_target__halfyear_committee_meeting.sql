-- halfyear_committee_meeting: the reporting unit's committee (the covering organization of its one
-- 区县党委/系统党委 单位 row) held at least one 党委会 whose topic mentions 强基创先.
with committees as (
    select
        u.district_code,
        u.period,
        u.submission_id,
        u.covering_org_code as committee_org_code
    from {{ ref('fct_unit_snapshot') }} as u
    where u.is_reporting_committee
),

meetings as (
    select
        a.submission_id,
        a.org_code
    from {{ ref('fct_activity') }} as a
    where a.activity_type = '党委会' and a.topic like '%强基创先%'
    group by a.submission_id, a.org_code
)

select
    'halfyear_committee_meeting' as target_id,
    c.district_code,
    c.period,
    case when m.org_code is null then 0 else 1 end as numerator,
    1 as denominator
from {{ ref('int_current_submissions') }} as c
left join committees as k on c.submission_id = k.submission_id
left join meetings as m
    on k.submission_id = m.submission_id and k.committee_org_code = m.org_code
