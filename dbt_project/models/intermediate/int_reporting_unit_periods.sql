-- Every reporting unit in every period it reports (districts.csv reports_from..reports_to),
-- submitted or not, with what was accepted for it. From the seeds, not dim_district and dim_period:
-- intermediate models come before the core layer's dimensions.
with periods as (
{{ typed_periods() }}
),

reporting_units as (
{{ typed_reporting_units() }}
),

units as (
    select
        d.district_code,
        f.period_index as from_index,
        coalesce(t.period_index, 999999) as to_index
    from reporting_units as d
    inner join periods as f on d.reports_from = f.period
    left join periods as t on d.reports_to = t.period
),

grid as (
    select
        u.district_code,
        p.period,
        p.period_index,
        p.year,
        p.half
    from units as u
    inner join periods as p
        on p.period_index between u.from_index and u.to_index
)

select
    g.district_code,
    g.period,
    g.period_index,
    g.year,
    g.half,
    c.submission_id,
    c.submission_id is not null as has_submission,
    -- event-based yearly targets need both halves of the year accepted
    (c.submission_id is not null and h1.submission_id is not null and g.half = 2) as has_full_year
from grid as g
left join {{ ref('int_current_submissions') }} as c
    on g.district_code = c.district_code and g.period = c.period
left join {{ ref('int_current_submissions') }} as h1
    on g.district_code = h1.district_code and g.year = h1.year and h1.half = 1
