-- Every reporting unit in every period it reports (districts.csv reports_from..reports_to),
-- submitted or not, with what was accepted for it.
with units as (
    select
        d.district_code,
        f.period_index as from_index,
        coalesce(t.period_index, 999999) as to_index
    from {{ ref('dim_district') }} as d
    inner join {{ ref('dim_period') }} as f on d.reports_from = f.period
    left join {{ ref('dim_period') }} as t on d.reports_to = t.period
    where d.is_reporting_unit
),

grid as (
    select
        u.district_code,
        p.period,
        p.period_index,
        p.year,
        p.half
    from units as u
    inner join {{ ref('dim_period') }} as p
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
