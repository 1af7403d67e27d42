{#
  A target's items: one row per member of its denominator (a unit, a member, an admission, the
  reporting unit itself), with how much of it counts in the numerator and, when it falls short,
  why. models/metrics/items/int_target_items__<id>.sql holds the target's rule as a CTE `items`;
  int_target__<id> only adds its items up (target_from_items), and mart_target_gaps lists the items
  that fall short. So a rule lives in one place: the items model.

  `items` gives: district_code, period (the row of int_target_values it adds to), submission_id (the
  submission the item comes from), item_code (unit_code, person_key or district_code), item_name,
  item_type, org_code (a unit's covering organization, a member's organization, the reporting
  unit's committee), numerator_count, denominator_count, reason_detail (e.g. the actual rating),
  and whatever the `reason` expression reads (alias i).
#}
{% macro target_items(target_id, item_level, reason) %}
select
    cast('{{ target_id }}' as {{ dbt.type_string() }}) as target_id,
    cast(i.district_code as {{ dbt.type_string() }}) as district_code,
    cast(i.period as {{ dbt.type_string() }}) as period,
    cast(i.submission_id as {{ dbt.type_string() }}) as submission_id,
    cast('{{ item_level }}' as {{ dbt.type_string() }}) as item_level,
    cast(i.item_code as {{ dbt.type_string() }}) as item_code,
    cast(i.item_name as {{ dbt.type_string() }}) as item_name,
    cast(i.item_type as {{ dbt.type_string() }}) as item_type,
    cast(i.org_code as {{ dbt.type_string() }}) as org_code,
    cast(i.numerator_count as {{ dbt.type_bigint() }}) as numerator_count,
    cast(i.denominator_count as {{ dbt.type_bigint() }}) as denominator_count,
    cast(
        case when i.numerator_count < i.denominator_count then {{ reason }} end as {{ dbt.type_string() }}
    ) as reason_code,
    cast(
        case when i.numerator_count < i.denominator_count then i.reason_detail end as {{ dbt.type_string() }}
    ) as reason_detail
from items as i
{% endmacro %}


{# The target's numerator and denominator per reporting unit and period: its items added up. #}
{% macro target_from_items(target_id) %}
select
    '{{ target_id }}' as target_id,
    i.district_code,
    i.period,
    sum(i.numerator_count) as numerator,
    sum(i.denominator_count) as denominator
from {{ ref('int_target_items__' ~ target_id) }} as i
group by i.district_code, i.period
{% endmacro %}


{#
  Why a unit that must be covered is not: no covering organization; a code that names no
  organization of the submission able to cover a unit; otherwise `otherwise` (the target asks for
  more than coverage: its own organization, a 党委 or 党总支).
#}
{% macro coverage_reason(otherwise="cast(null as " ~ dbt.type_string() ~ ")") %}
case
    when i.covering_org_code is null then 'not_covered'
    when not i.is_covered then 'covering_org_unknown'
    else {{ otherwise }}
end
{% endmacro %}


{# The host units of a submission as items (alias u of fct_unit_snapshot): the columns they share. #}
{% macro unit_item_columns() %}
        u.district_code,
        u.period,
        u.submission_id,
        u.unit_code as item_code,
        u.unit_name as item_name,
        u.unit_type as item_type,
        u.covering_org_code as org_code,
        u.covering_org_code,
        u.covering_org_type,
        u.is_covered
{% endmacro %}


{# Members of a period's snapshot as items (alias m of fct_member_snapshot). #}
{% macro member_item_columns() %}
        m.district_code,
        m.period,
        m.submission_id,
        m.person_key as item_code,
        cast(null as {{ dbt.type_string() }}) as item_name,
        cast(null as {{ dbt.type_string() }}) as item_type,
        m.org_code
{% endmacro %}


{#
  Admissions as items (alias a of fct_admission, m of the 党员 row of the same submission, joined
  by admission_items_join()); `period` is the row they add to.
#}
{% macro admission_item_columns(period) %}
        a.district_code,
        {{ period }} as period,
        a.submission_id,
        a.person_key as item_code,
        cast(null as {{ dbt.type_string() }}) as item_name,
        cast(null as {{ dbt.type_string() }}) as item_type,
        m.org_code
{% endmacro %}

{% macro admission_items_from() %}
    from {{ ref('fct_admission') }} as a
    left join {{ ref('fct_member_snapshot') }} as m
        on a.submission_id = m.submission_id and a.person_key = m.person_key
{% endmacro %}
