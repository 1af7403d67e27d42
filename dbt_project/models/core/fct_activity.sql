-- 活动: activities inside each period.
{{ incremental_fact() }}

select
    c.district_code,
    c.period,
    c.year,
    a.submission_id,
    a.source_row,
    a.activity_id,
    a.org_code,
    a.activity_type,
    a.topic,
    a.organizer,
    a.start_date,
    a.end_date,
    a.participants
from {{ ref('stg_activities') }} as a
inner join {{ ref('int_current_submissions') }} as c on a.submission_id = c.submission_id
where not a.is_quarantined and {{ fact_batch('c', ref('stg_activities')) }}
