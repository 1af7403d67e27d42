-- dev_process: admissions of the year (both halves) through the full process: recommended,
-- pre-reviewed and publicized, and activist for at least a year before admission. On the H2 row.
select
    'dev_process' as target_id,
    a.district_code,
    {{ dbt.concat(["cast(a.year as " ~ dbt.type_string() ~ ")", "'H2'"]) }} as period,
    sum(
        case
            when a.is_recommended and a.is_prereviewed and a.is_publicized and a.is_process_complete then 1
            else 0
        end
    ) as numerator,
    count(*) as denominator
from {{ ref('fct_admission') }} as a
group by a.district_code, a.year
