-- community_demo_sites: a count (city rows only): 社区 recognised as party-building demonstration sites.
-- Every current submission gives a row, so a unit with none counts 0 rather than nothing.
select
    'community_demo_sites' as target_id,
    c.district_code,
    c.period,
    coalesce(sum(case when u.is_demo_site then 1 else 0 end), 0) as numerator,
    cast(null as {{ dbt.type_bigint() }}) as denominator
from {{ ref('int_current_submissions') }} as c
left join {{ ref('fct_unit_snapshot') }} as u
    on c.submission_id = u.submission_id and u.unit_type = '社区'
group by c.district_code, c.period
