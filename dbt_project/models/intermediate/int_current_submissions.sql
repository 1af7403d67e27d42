-- The current version of each (district, period): the highest accepted version. Ingest marks the
-- versions it replaces as superseded; ranking here again keeps the marts right even if it did not.
with ranked as (
    select
        s.submission_id,
        s.district_code,
        s.period,
        s.version,
        s.received_at,
        row_number() over (partition by s.district_code, s.period order by s.version desc) as version_rank
    from {{ ref('stg_submissions') }} as s
    where s.status = 'accepted'
)

select
    r.submission_id,
    r.district_code,
    r.period,
    p.period_index,
    p.year,
    p.half,
    p.end_date as period_end,
    r.version,
    r.received_at
from ranked as r
-- the periods seed, not dim_period: intermediate models come before the core layer's dimensions
inner join ({{ typed_periods() }}) as p on r.period = p.period
where r.version_rank = 1
