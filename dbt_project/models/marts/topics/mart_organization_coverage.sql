-- Party organization coverage of host units by category, reporting unit (and city) and period:
-- 两新 units by member count, communities, villages and new residential compounds.
with units as (
    select
        u.district_code,
        u.period,
        case
            when u.unit_type in ('非公有制企业', '社会组织') and u.member_count >= 3 then '两新(3名以上党员)'
            when u.unit_type in ('非公有制企业', '社会组织') and u.member_count >= 1 then '两新(1-2名党员)'
            when u.unit_type in ('非公有制企业', '社会组织') and u.member_count = 0 then '两新(无党员)'
            when u.unit_type in ('非公有制企业', '社会组织') then '两新(党员数未填)'
            when u.unit_type = '社区' then '社区'
            when u.unit_type = '行政村' then '行政村'
            when u.unit_type = '居民小区' and u.built_date >= cast('2006-01-01' as date) then '新建居民小区'
            when u.unit_type = '居民小区' then '居民小区'
            else u.unit_type
        end as unit_category,
        u.is_covered,
        coalesce(u.covering_org_type = '联合党支部', false) as is_joint,
        u.has_instructor
    from {{ ref('fct_unit_snapshot') }} as u
    where not u.is_reporting_committee
),

with_city as (
    select * from units
    union all
    select '120000' as district_code, period, unit_category, is_covered, is_joint, has_instructor from units
)

select
    cast(district_code as {{ dbt.type_string() }}) as district_code,
    cast(period as {{ dbt.type_string() }}) as period,
    cast(unit_category as {{ dbt.type_string() }}) as unit_category,
    cast(count(*) as {{ dbt.type_bigint() }}) as units,
    cast(sum(case when is_covered then 1 else 0 end) as {{ dbt.type_bigint() }}) as covered_units,
    cast(sum(case when is_joint then 1 else 0 end) as {{ dbt.type_bigint() }}) as joint_branch_units,
    cast(sum(case when has_instructor then 1 else 0 end) as {{ dbt.type_bigint() }}) as instructor_units,
    cast(cast(sum(case when is_covered then 1 else 0 end) as double) / count(*) as double) as coverage
from with_city
group by district_code, period, unit_category
