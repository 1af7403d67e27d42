-- 发展党员 by year, reporting unit (and the city 120000) with the 党内统计 breakdowns: gender, age
-- band at admission, education and occupation. Long format: one row per breakdown category.
with admissions as (
    select
        a.year,
        a.district_code,
        a.gender,
        case
            when a.age_at_admission is null then '未知'
            when a.age_at_admission <= 25 then '25岁及以下'
            when a.age_at_admission <= 30 then '26-30岁'
            when a.age_at_admission <= {{ var('dev_age_limit') }} then '31-{{ var("dev_age_limit") }}岁'
            when a.age_at_admission <= 45 then '{{ var("dev_age_limit") + 1 }}-45岁'
            else '46岁及以上'
        end as age_band,
        coalesce(a.education, '未知') as education,
        coalesce(a.occupation, '未知') as occupation
    from {{ ref('fct_admission') }} as a
),

with_city as (
    select year, district_code, gender, age_band, education, occupation from admissions
    union all
    select year, '120000' as district_code, gender, age_band, education, occupation from admissions
),

long_format as (
    select year, district_code, 'gender' as breakdown, coalesce(gender, '未知') as category from with_city
    union all
    select year, district_code, 'age_band' as breakdown, age_band as category from with_city
    union all
    select year, district_code, 'education' as breakdown, education as category from with_city
    union all
    select year, district_code, 'occupation' as breakdown, occupation as category from with_city
),

counted as (
    select year, district_code, breakdown, category, count(*) as admissions
    from long_format
    group by year, district_code, breakdown, category
)

select
    cast(c.year as {{ dbt.type_int() }}) as year,
    cast(c.district_code as {{ dbt.type_string() }}) as district_code,
    cast(c.breakdown as {{ dbt.type_string() }}) as breakdown,
    cast(c.category as {{ dbt.type_string() }}) as category,
    cast(c.admissions as {{ dbt.type_bigint() }}) as admissions,
    cast(
        cast(c.admissions as double)
        / sum(c.admissions) over (partition by c.year, c.district_code, c.breakdown)
        as double
    ) as share
from counted as c
