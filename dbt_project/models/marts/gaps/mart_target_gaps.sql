-- 缺口清单: for every row of mart_target_attainment of a target with a denominator, what falls short
-- of it. Units, and reporting units, one row each; member-level targets (members, admissions) one
-- row per organization and reason, with a count: no person is listed. A row's items are its
-- sources' (macros/target_rollup.sql, the roll-up of the attainment marts), so the shortfalls of
-- a row add up to its denominator − numerator (the test gaps_explain_attainment).
with {{ target_rollup('district_code') }},

-- the items that fall short, every target with a denominator (not the count community_demo_sites)
short as (
{%- for target_id in var('implemented_targets') if target_id != 'community_demo_sites' %}
    select
        i.target_id, i.district_code, i.period, i.submission_id, i.item_level, i.item_code, i.item_name,
        i.item_type, i.org_code, i.denominator_count - i.numerator_count as shortfall, i.reason_code,
        i.reason_detail
    from {{ ref('int_target_items__' ~ target_id) }} as i
    where i.numerator_count < i.denominator_count
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
),

-- each with its organization (a unit's covering one, a member's own, a reporting unit's committee)
named as (
    select
        s.*,
        o.org_name,
        o.org_type
    from short as s
    left join {{ ref('fct_organization_snapshot') }} as o
        on s.submission_id = o.submission_id and s.org_code = o.org_code
),

-- in every row that adds up its source
listed as (
    select
        r.target_id,
        r.group_code as district_code,
        r.period,
        n.district_code as item_district_code,
        n.item_level,
        n.item_code,
        n.item_name,
        n.item_type,
        n.org_code,
        n.org_name,
        n.org_type,
        n.shortfall,
        n.reason_code,
        n.reason_detail
    from rollup_sources as r
    inner join named as n
        on r.target_id = n.target_id and r.source_district_code = n.district_code and r.source_period = n.period
),

gaps as (
    -- a unit: itself, with its covering organization
    select
        l.target_id, l.district_code, l.period, l.item_district_code,
        'unit' as item_level,
        l.item_code, l.item_name, l.item_type,
        l.org_code as covering_org_code, l.org_name as covering_org_name, l.org_type as covering_org_type,
        l.shortfall, l.reason_code, l.reason_detail
    from listed as l
    where l.item_level = 'unit'

    union all

    -- a reporting unit: itself, with its committee
    select
        l.target_id, l.district_code, l.period, l.item_district_code,
        'reporting_unit' as item_level,
        l.item_code, d.district_name as item_name,
        case when d.kind = 'system' then '系统党委' else '区县党委' end as item_type,
        l.org_code as covering_org_code, l.org_name as covering_org_name, l.org_type as covering_org_type,
        l.shortfall, l.reason_code, l.reason_detail
    from listed as l
    left join {{ ref('dim_district') }} as d on l.item_code = d.district_code
    where l.item_level = 'reporting_unit'

    union all

    -- members and admissions: counted by organization and reason, no person listed
    select
        l.target_id, l.district_code, l.period, l.item_district_code,
        'organization' as item_level,
        l.org_code as item_code, max(l.org_name) as item_name, max(l.org_type) as item_type,
        cast(null as {{ dbt.type_string() }}) as covering_org_code,
        cast(null as {{ dbt.type_string() }}) as covering_org_name,
        cast(null as {{ dbt.type_string() }}) as covering_org_type,
        sum(l.shortfall) as shortfall, l.reason_code,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from listed as l
    where l.item_level = 'member'
    group by l.target_id, l.district_code, l.period, l.item_district_code, l.org_code, l.reason_code
)

select
    cast(g.target_id as {{ dbt.type_string() }}) as target_id,
    cast(t.name_zh as {{ dbt.type_string() }}) as target_name_zh,
    cast(t.name_en as {{ dbt.type_string() }}) as target_name_en,
    cast(g.district_code as {{ dbt.type_string() }}) as district_code,
    cast(g.period as {{ dbt.type_string() }}) as period,
    cast(g.item_district_code as {{ dbt.type_string() }}) as item_district_code,
    cast(g.item_level as {{ dbt.type_string() }}) as item_level,
    cast(g.item_code as {{ dbt.type_string() }}) as item_code,
    cast(g.item_name as {{ dbt.type_string() }}) as item_name,
    cast(g.item_type as {{ dbt.type_string() }}) as item_type,
    cast(g.covering_org_code as {{ dbt.type_string() }}) as covering_org_code,
    cast(g.covering_org_name as {{ dbt.type_string() }}) as covering_org_name,
    cast(g.covering_org_type as {{ dbt.type_string() }}) as covering_org_type,
    cast(g.shortfall as {{ dbt.type_bigint() }}) as shortfall,
    cast(g.reason_code as {{ dbt.type_string() }}) as reason_code,
    cast(r.label_zh as {{ dbt.type_string() }}) as reason_zh,
    cast(r.label_en as {{ dbt.type_string() }}) as reason_en,
    cast(g.reason_detail as {{ dbt.type_string() }}) as reason_detail
from gaps as g
inner join {{ ref('dim_target') }} as t on g.target_id = t.target_id
left join {{ ref('gap_reasons') }} as r on g.reason_code = r.reason_code
