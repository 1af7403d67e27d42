-- halfyear_committee_meeting: each current submission's reporting unit, whose committee (the covering
-- organization of its one 区县党委/系统党委 单位 row) counts when it held at least one 党委会 whose topic
-- mentions 强基创先.
with committees as (
    select
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
),

items as (
    select
        c.district_code,
        c.period,
        c.submission_id,
        c.district_code as item_code,
        cast(null as {{ dbt.type_string() }}) as item_name,
        cast(null as {{ dbt.type_string() }}) as item_type,
        k.committee_org_code as org_code,
        case when m.org_code is null then 0 else 1 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from {{ ref('int_current_submissions') }} as c
    left join committees as k on c.submission_id = k.submission_id
    left join meetings as m
        on k.submission_id = m.submission_id and k.committee_org_code = m.org_code
)

{{ target_items('halfyear_committee_meeting', 'reporting_unit', "'no_meeting'") }}
