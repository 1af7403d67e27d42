-- 发展党员: admissions inside each period, with the admitted member's attributes taken from the
-- 党员 row of the same submission (targets.md). Age is in completed years at admission.
{{ incremental_fact() }}

select
    c.district_code,
    c.period,
    c.year,
    a.submission_id,
    a.source_row,
    a.person_key,
    a.admission_date,
    a.application_date,
    a.activist_date,
    coalesce(a.is_recommended, false) as is_recommended,
    coalesce(a.is_prereviewed, false) as is_prereviewed,
    coalesce(a.is_publicized, false) as is_publicized,
    coalesce(a.is_ballot, false) as is_ballot,
    m.gender,
    m.birth_date,
    m.education,
    m.occupation,
    extract(year from a.admission_date) - extract(year from m.birth_date)
    - case
        when extract(month from a.admission_date) < extract(month from m.birth_date) then 1
        when extract(month from a.admission_date) = extract(month from m.birth_date)
            and extract(day from a.admission_date) < extract(day from m.birth_date) then 1
        else 0
    end as age_at_admission,
    {{ dbt.dateadd('year', 1, 'a.activist_date') }} <= a.admission_date as is_process_complete
from {{ ref('stg_admissions') }} as a
inner join {{ ref('int_current_submissions') }} as c on a.submission_id = c.submission_id
left join {{ ref('fct_member_snapshot') }} as m
    on a.submission_id = m.submission_id and a.person_key = m.person_key
where not a.is_quarantined and {{ fact_batch('c', ref('stg_admissions')) }}
