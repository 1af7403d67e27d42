-- dev_ballot: admissions of the year (both halves) decided by a branch-meeting ballot. On the H2 row.
select
    'dev_ballot' as target_id,
    a.district_code,
    {{ dbt.concat(["cast(a.year as " ~ dbt.type_string() ~ ")", "'H2'"]) }} as period,
    sum(case when a.is_ballot then 1 else 0 end) as numerator,
    count(*) as denominator
from {{ ref('fct_admission') }} as a
group by a.district_code, a.year
