{#
  Seeds on Spark. dbt-spark's session method formats each value into the SQL as '<str(value)>':
  an empty cell becomes the string 'None' (targets.deadline_period, reporting_units.reports_to …)
  and a quote in a value breaks the statement. Here every value is a literal of its own: null,
  true/false, a number, or a string with backslashes and quotes escaped.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set types = [] %}
    {% for column_name in agate_table.column_names %}
        {% do types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) %}
    {% endfor %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    cast({{ spark_seed_literal(value) }} as {{ types[loop.index0] }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.first %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}


{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string).replace('\\', '\\\\').replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
