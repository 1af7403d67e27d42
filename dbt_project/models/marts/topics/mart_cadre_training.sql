-- Township and village cadres (乡镇干部/村干部 in the H2 snapshot) and their concentrated training
-- in the year (the district's own 培训 rows of both halves), by reporting unit (and city) and year.
with cadres as (
    select
        m.district_code,
        p.year,
        m.cadre_type,
        m.person_key
    from {{ ref('fct_member_snapshot') }} as m
    inner join {{ ref('dim_period') }} as p on m.period = p.period
    where m.cadre_type is not null and p.half = 2
),

days as (
    select t.district_code, t.year, t.person_key, sum(t.training_days) as training_days
    from {{ ref('fct_training_attendance') }} as t
    group by t.district_code, t.year, t.person_key
),

per_cadre as (
    select
        c.district_code,
        c.year,
        c.cadre_type,
        coalesce(d.training_days, 0) as training_days
    from cadres as c
    left join days as d
        on c.district_code = d.district_code and c.year = d.year and c.person_key = d.person_key
),

with_city as (
    select * from per_cadre
    union all
    select '120000' as district_code, year, cadre_type, training_days from per_cadre
)

select
    cast(district_code as {{ dbt.type_string() }}) as district_code,
    cast(year as {{ dbt.type_int() }}) as year,
    cast(cadre_type as {{ dbt.type_string() }}) as cadre_type,
    cast(count(*) as {{ dbt.type_bigint() }}) as cadres,
    cast(
        sum(case when training_days >= {{ var('training_days_threshold') }} then 1 else 0 end)
        as {{ dbt.type_bigint() }}
    ) as cadres_trained_enough,
    cast(sum(case when training_days = 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as cadres_untrained,
    cast(avg(training_days) as double) as average_training_days
from with_city
group by district_code, year, cadre_type
