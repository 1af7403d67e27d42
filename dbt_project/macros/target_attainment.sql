{#
  Target attainment over reporting units grouped by `group_key`, plus the city (120000).
  `group_key` is a column of dim_district (aliased d): district_code gives each reporting unit on
  its own data; current_district_code sums predecessors into the district they belong to today.
  Status rules: ../shared/spec/targets.md "Status".
#}
{% macro target_attainment(group_key) %}

with {{ target_rollup(group_key) }},

targets as (
    select * from {{ ref('dim_target') }}
),

-- a row's values: the sums of the values of its sources (macros/target_rollup.sql)
summed as (
    select
        s.target_id,
        s.group_code,
        s.period,
        sum(f.numerator) as numerator,
        sum(f.denominator) as denominator
    from rollup_sources as s
    inner join {{ ref('int_target_values') }} as f
        on s.target_id = f.target_id and s.source_district_code = f.district_code and s.source_period = f.period
    group by s.target_id, s.group_code, s.period
),

all_rows as (
    select
        r.target_id,
        r.group_code as district_code,
        r.period,
        r.period_index,
        r.has_data,
        case when r.has_data then v.numerator end as numerator,
        case when r.has_data then v.denominator end as denominator
    from rollup_rows as r
    left join summed as v
        on r.target_id = v.target_id and r.group_code = v.group_code and r.period = v.period
),

valued as (
    select
        r.target_id,
        r.district_code,
        r.period,
        r.period_index,
        r.numerator,
        r.denominator,
        t.target_kind,
        t.target_value,
        t.deadline_period,
        t.deadline_index,
        case
            when t.target_kind = 'count' then r.has_data and r.numerator is not null
            else r.has_data and coalesce(r.denominator, 0) > 0
        end as has_value
    from all_rows as r
    inner join targets as t on r.target_id = t.target_id
),

with_baseline as (
    select
        v.*,
        min(case when v.has_value then v.period_index end)
            over (partition by v.target_id, v.district_code) as first_index
    from valued as v
),

compared as (
    select
        b.*,
        f.numerator as first_numerator,
        f.denominator as first_denominator,
        prev.numerator as prev_numerator,
        prev.denominator as prev_denominator,
        prev.has_value as prev_has_value
    from with_baseline as b
    left join valued as f
        on b.target_id = f.target_id and b.district_code = f.district_code and b.first_index = f.period_index
    left join valued as prev
        on b.target_id = prev.target_id and b.district_code = prev.district_code
        and prev.period_index = b.period_index - 2
),

judged as (
    select
        c.*,
        -- met: numerator >= target × denominator (exact decimals), or count >= target
        case
            when c.target_kind = 'count' then cast(c.numerator as decimal(38, 6)) >= c.target_value
            else cast(c.numerator as decimal(38, 6))
                >= c.target_value * cast(c.denominator as decimal(38, 6))
        end as is_met,
        -- on the straight line from the first value to the target at the deadline:
        -- value >= v0 + (T - v0)(p - p0)/(D - p0), multiplied through by d·d0·(D - p0).
        case
            when c.target_kind = 'count' then
                cast(c.numerator as decimal(38, 6)) * (c.deadline_index - c.first_index)
                >= cast(c.first_numerator as decimal(38, 6)) * (c.deadline_index - c.first_index)
                + (c.target_value - c.first_numerator) * (c.period_index - c.first_index)
            else
                cast(c.numerator as decimal(38, 6)) * c.first_denominator * (c.deadline_index - c.first_index)
                >= cast(c.denominator as decimal(38, 6)) * (
                    cast(c.first_numerator as decimal(38, 6)) * (c.deadline_index - c.first_index)
                    + (c.target_value * c.first_denominator - c.first_numerator) * (c.period_index - c.first_index)
                )
        end as is_on_line,
        -- rising: above last year's value (n·pd > pn·d), or 100%
        cast(c.numerator as decimal(38, 6)) * c.prev_denominator
        > cast(c.prev_numerator as decimal(38, 6)) * c.denominator
        or c.numerator = c.denominator as is_rising
    from compared as c
)

select
    cast(j.target_id as {{ dbt.type_string() }}) as target_id,
    cast(j.district_code as {{ dbt.type_string() }}) as district_code,
    cast(j.period as {{ dbt.type_string() }}) as period,
    cast(j.numerator as {{ dbt.type_bigint() }}) as numerator,
    cast(j.denominator as {{ dbt.type_bigint() }}) as denominator,
    cast(
        case
            when not j.has_value then null
            when j.target_kind = 'count' then cast(j.numerator as double)
            else cast(j.numerator as double) / j.denominator
        end as double
    ) as value,
    cast(j.target_value as decimal(9, 4)) as target_value,
    cast(j.target_kind as {{ dbt.type_string() }}) as target_kind,
    cast(j.deadline_period as {{ dbt.type_string() }}) as deadline_period,
    cast(
        case
            when not j.has_value then 'no_data'
            when j.target_kind = 'rising' and not coalesce(j.prev_has_value, false) then 'no_data'
            when j.target_kind = 'rising' and j.is_rising then 'achieved'
            when j.target_kind = 'rising' then 'missed'
            when j.is_met then 'achieved'
            when j.deadline_index is null or j.period_index >= j.deadline_index then 'missed'
            when
                cast(j.first_numerator as decimal(38, 6))
                >= j.target_value * (case when j.target_kind = 'count' then 1 else j.first_denominator end)
                then 'at_risk'
            when j.is_on_line then 'on_track'
            else 'at_risk'
        end as {{ dbt.type_string() }}
    ) as status,
    cast(d.current_district_code as {{ dbt.type_string() }}) as current_district_code
from judged as j
inner join {{ ref('dim_district') }} as d on j.district_code = d.district_code
{% endmacro %}
