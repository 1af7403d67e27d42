-- Submission status per reporting unit and period (every period the unit reports): whether
-- anything was received, the current accepted version, rejected, superseded and pending files
-- (pending: reading failed for a reason of the server, tried again by the next runs), quarantined
-- rows, lateness (the cover's 填报日期 after period end + var submission_due_days), and the reason
-- of the latest rejection.
with received as (
    select
        s.district_code,
        s.period,
        count(*) as files_received,
        sum(case when s.status = 'rejected' then 1 else 0 end) as files_rejected,
        sum(case when s.status = 'superseded' then 1 else 0 end) as files_superseded,
        sum(case when s.status = 'pending' then 1 else 0 end) as files_pending,
        max(s.received_at) as last_received_at
    from {{ ref('stg_submissions') }} as s
    where s.district_code is not null
    group by s.district_code, s.period
),

current_version as (
    select
        c.district_code,
        c.period,
        c.submission_id,
        c.version,
        s.file_name,
        s.submitted_date,
        s.quarantined_rows,
        s.received_at
    from {{ ref('int_current_submissions') }} as c
    inner join {{ ref('stg_submissions') }} as s on c.submission_id = s.submission_id
),

-- the rejected files of each unit and period, latest first: by when received, then the highest
-- version, then the (last) file name, so that a tie still picks one file on every engine
rejections as (
    select
        s.district_code,
        s.period,
        s.reason,
        row_number() over (
            partition by s.district_code, s.period
            order by s.received_at desc, coalesce(s.version, -1) desc, s.file_name desc
        ) as recency
    from {{ ref('stg_submissions') }} as s
    where s.status = 'rejected'
),

latest_rejection as (
    select district_code, period, reason as last_rejection_reason
    from rejections
    where recency = 1
)

select
    cast(g.district_code as {{ dbt.type_string() }}) as district_code,
    cast(g.period as {{ dbt.type_string() }}) as period,
    cast(case
        when cv.submission_id is not null then 'accepted'
        when r.files_pending > 0 then 'pending'
        when r.files_received > 0 then 'rejected'
        else 'missing'
    end as {{ dbt.type_string() }}) as submission_status,
    cast(coalesce(r.files_received, 0) as {{ dbt.type_bigint() }}) as files_received,
    cast(coalesce(r.files_rejected, 0) as {{ dbt.type_bigint() }}) as files_rejected,
    cast(coalesce(r.files_superseded, 0) as {{ dbt.type_bigint() }}) as files_superseded,
    cast(coalesce(r.files_pending, 0) as {{ dbt.type_bigint() }}) as files_pending,
    cast(cv.submission_id as {{ dbt.type_string() }}) as current_submission_id,
    cast(cv.version as {{ dbt.type_int() }}) as current_version,
    cast(cv.file_name as {{ dbt.type_string() }}) as current_file_name,
    cast(cv.submitted_date as date) as submitted_date,
    cast({{ dbt.dateadd('day', var('submission_due_days'), 'p.end_date') }} as date) as due_date,
    cast(
        coalesce(cv.submitted_date > {{ dbt.dateadd('day', var('submission_due_days'), 'p.end_date') }}, false)
        as {{ dbt.type_boolean() }}
    ) as is_late,
    cast(coalesce(cv.quarantined_rows, 0) as {{ dbt.type_bigint() }}) as quarantined_rows,
    cast(r.last_received_at as {{ dbt.type_timestamp() }}) as last_received_at,
    cast(lr.last_rejection_reason as {{ dbt.type_string() }}) as last_rejection_reason
from {{ ref('int_reporting_unit_periods') }} as g
inner join {{ ref('dim_period') }} as p on g.period = p.period
left join received as r on g.district_code = r.district_code and g.period = r.period
left join current_version as cv on g.district_code = cv.district_code and g.period = cv.period
left join latest_rejection as lr on g.district_code = lr.district_code and g.period = lr.period
