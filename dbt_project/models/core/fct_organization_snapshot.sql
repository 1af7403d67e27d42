-- 组织: organizations at the end of each period, current versions only, quarantined rows excluded.
{{ incremental_fact() }}

select
    c.district_code,
    c.period,
    o.submission_id,
    o.source_row,
    o.org_code,
    o.org_name,
    o.org_type,
    o.parent_org_code,
    o.established_date
from {{ ref('stg_organizations') }} as o
inner join {{ ref('int_current_submissions') }} as c on o.submission_id = c.submission_id
where not o.is_quarantined and {{ fact_batch('c', ref('stg_organizations')) }}
