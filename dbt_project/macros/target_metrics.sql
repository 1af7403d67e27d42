{#
  Items of the targets that two metric models share (see macros/target_items.sql): the
  committee evaluations (univ_evaluation, hospital_evaluation) and the cadre training
  (rural_training_township, rural_training_village).
#}
{% macro committee_evaluation_items(target_id, unit_type) %}
with units as (
    select
        {{ unit_item_columns() }},
        p.year
    from {{ ref('fct_unit_snapshot') }} as u
    inner join {{ ref('dim_period') }} as p on u.period = p.period
    where u.unit_type = '{{ unit_type }}' and u.covering_org_type = '党委' and p.half = 2
),

evaluated as (
    select
        a.district_code,
        a.year,
        a.org_code
    from {{ ref('fct_activity') }} as a
    where a.activity_type = '检查评估'
    group by a.district_code, a.year, a.org_code
),

items as (
    select
        u.*,
        case when e.org_code is null then 0 else 1 end as numerator_count,
        1 as denominator_count,
        cast(null as {{ dbt.type_string() }}) as reason_detail
    from units as u
    left join evaluated as e
        on u.district_code = e.district_code and u.year = e.year and u.covering_org_code = e.org_code
)

{{ target_items(target_id, 'unit', "'no_evaluation'") }}
{% endmacro %}


{% macro cadre_training_items(target_id, cadre_type) %}
with cadres as (
    select
        {{ member_item_columns() }},
        p.year,
        m.person_key
    from {{ ref('fct_member_snapshot') }} as m
    inner join {{ ref('dim_period') }} as p on m.period = p.period
    where m.cadre_type = '{{ cadre_type }}' and p.half = 2
),

trained as (
    select
        t.district_code,
        t.year,
        t.person_key,
        sum(t.training_days) as training_days
    from {{ ref('fct_training_attendance') }} as t
    group by t.district_code, t.year, t.person_key
),

items as (
    select
        c.*,
        case when coalesce(t.training_days, 0) >= {{ var('training_days_threshold') }} then 1 else 0 end
            as numerator_count,
        1 as denominator_count,
        cast(coalesce(t.training_days, 0) as {{ dbt.type_string() }}) as reason_detail
    from cadres as c
    left join trained as t
        on c.district_code = t.district_code and c.year = t.year and c.person_key = t.person_key
)

{{ target_items(target_id, 'member', "'training_short'") }}
{% endmacro %}
