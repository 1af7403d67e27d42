-- 培训: attendance at 集中培训 activities (the district's own rows only).
{{ incremental_fact() }}

select
    c.district_code,
    c.period,
    c.year,
    t.submission_id,
    t.source_row,
    t.activity_id,
    t.person_key,
    t.training_days
from {{ ref('stg_training') }} as t
inner join {{ ref('int_current_submissions') }} as c on t.submission_id = c.submission_id
where not t.is_quarantined and {{ fact_batch('c', ref('stg_training')) }}
