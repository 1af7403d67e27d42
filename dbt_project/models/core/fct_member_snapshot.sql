-- 党员: members registered at the end of each period (pseudonymized: person_key only).
{{ incremental_fact() }}

select
    c.district_code,
    c.period,
    m.submission_id,
    m.source_row,
    m.person_key,
    m.gender,
    m.birth_date,
    m.education,
    m.join_date,
    m.full_member_date,
    m.member_status,
    m.org_code,
    coalesce(m.is_floating, false) as is_floating,
    m.floating_managed_by,
    m.cadre_type,
    m.occupation
from {{ ref('stg_members') }} as m
inner join {{ ref('int_current_submissions') }} as c on m.submission_id = c.submission_id
where not m.is_quarantined and {{ fact_batch('c', ref('stg_members')) }}
