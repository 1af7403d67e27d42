{#
  The roll-up of the targets: which rows the attainment marts have and which reporting units'
  values each row adds up. One place for it: target_attainment sums the targets' values over
  `rollup_sources`, mart_target_gaps lists the items of the same sources that fall short.

  CTEs to put after a `with` (the caller adds its own after a comma), grouping reporting units by
  `group_key`, a column of dim_district (district_code: each unit on its own data;
  current_district_code: predecessors summed into today's district), plus the city (120000):
  - rollup_rows (target_id, data_basis, group_code, period, period_index, has_data): every row.
  - rollup_sources (target_id, group_code, period, source_district_code, source_period): for a row
    with data, each (reporting unit, period) whose values it adds up. Rows without data have none.
  Rules: ../shared/spec/targets.md "Rows and cadence" and "Roll-ups".
#}
{% macro target_rollup(group_key) %}
{% set city = "'120000'" %}
-- every target × reporting unit × period it reports; yearly targets on H2 only
rollup_grid as (
    select
        t.target_id,
        t.data_basis,
        t.is_city_only,
        up.district_code,
        d.{{ group_key }} as group_code,
        up.period,
        up.period_index,
        case
            when t.cadence = 'year' and t.data_basis = 'events' then up.has_full_year
            else up.has_submission
        end as has_data
    from {{ ref('dim_target') }} as t
    cross join {{ ref('int_reporting_unit_periods') }} as up
    inner join {{ ref('dim_district') }} as d on up.district_code = d.district_code
    where t.cadence = 'period' or up.half = 2
),

-- each unit's period in its group and in the city (count targets have city rows only)
rollup_keyed as (
    select
        g.target_id, g.data_basis, g.district_code, g.group_code, g.period, g.period_index, g.has_data
    from rollup_grid as g
    where not g.is_city_only

    union all

    select
        g.target_id, g.data_basis, g.district_code, {{ city }} as group_code, g.period, g.period_index, g.has_data
    from rollup_grid as g
),

-- a row has data when one of the group's units has data for the period
rollup_rows as (
    select
        k.target_id,
        k.data_basis,
        k.group_code,
        k.period,
        k.period_index,
        max(case when k.has_data then 1 else 0 end) = 1 as has_data
    from rollup_keyed as k
    group by k.target_id, k.data_basis, k.group_code, k.period, k.period_index
),

-- every accepted submission (a unit's period with a submission), in its unit's group and in the city
rollup_submissions as (
    select g.district_code, d.{{ group_key }} as group_code, g.period, g.period_index
    from {{ ref('int_reporting_unit_periods') }} as g
    inner join {{ ref('dim_district') }} as d on g.district_code = d.district_code
    where g.has_submission

    union all

    select g.district_code, {{ city }} as group_code, g.period, g.period_index
    from {{ ref('int_reporting_unit_periods') }} as g
    where g.has_submission
),

rollup_sources as (
    -- a period's values: the group's units that have data for it
    select
        k.target_id,
        k.group_code,
        k.period,
        k.district_code as source_district_code,
        k.period as source_period
    from rollup_keyed as k
    where k.has_data and k.data_basis <> 'cumulative'

    union all

    -- cumulative targets: every accepted submission of the group's units from 2006H1 up to the
    -- period, whoever submitted it (the city counts 塘沽/汉沽/大港's admissions after the merger too)
    select
        r.target_id,
        r.group_code,
        r.period,
        s.district_code as source_district_code,
        s.period as source_period
    from rollup_rows as r
    inner join rollup_submissions as s
        on r.group_code = s.group_code and s.period_index <= r.period_index
    where r.has_data and r.data_basis = 'cumulative'
)
{% endmacro %}
