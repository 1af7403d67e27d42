{% test unique_combination(model, columns) %}
-- Rows whose combination of `columns` appears more than once (dbt has no built-in for this and
-- dbt packages cannot be fetched here).
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
