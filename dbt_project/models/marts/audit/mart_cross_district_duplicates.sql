-- National IDs registered in the 党员 sheets of two reporting units for the same period
-- (submission-format.md: reported, not a reason to reject either submission; targets.md: counted
-- where they appear, not deduplicated). Counts per pair of units, so no member-level row leaves
-- the warehouse.
with registered as (
    select distinct m.period, m.person_key, m.district_code
    from {{ ref('fct_member_snapshot') }} as m
),

pairs as (
    select
        a.period,
        a.district_code,
        b.district_code as other_district_code,
        a.person_key
    from registered as a
    inner join registered as b
        on a.period = b.period and a.person_key = b.person_key and a.district_code <> b.district_code
)

select
    cast(period as {{ dbt.type_string() }}) as period,
    cast(district_code as {{ dbt.type_string() }}) as district_code,
    cast(other_district_code as {{ dbt.type_string() }}) as other_district_code,
    cast(count(*) as {{ dbt.type_bigint() }}) as duplicate_members
from pairs
group by period, district_code, other_district_code
