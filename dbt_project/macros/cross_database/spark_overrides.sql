{#
  Where dbt-spark's versions of dbt's cross-database macros differ from DuckDB's (and from what the
  macro promises), the project's own, found first (dispatch search order in dbt_project.yml).
  tests/integration/test_spark.py runs each of them on both targets and compares.
#}

{# dbt-spark casts with cast(): an error under ANSI mode (Spark 4's default), not a null. #}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}


{#
  dbt-spark wraps its argument in assert_true(… is not null): a null date fails the whole query.
  timestampadd (Spark 3.3+) keeps nulls null and, like DuckDB, ends 2008-02-29 + 1 year on 2009-02-28.
#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}


{#
  DuckDB counts the month (quarter, year) boundaries crossed: 2008-01-31 → 2008-03-01 is 2 months.
  dbt-spark rounds months_between and gives 1. Count boundaries here too; other parts as dbt-spark.
#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set a = 'cast(' ~ first_date ~ ' as date)' -%}
    {%- set b = 'cast(' ~ second_date ~ ' as date)' -%}
    {%- if datepart == 'year' -%}
        (year({{ b }}) - year({{ a }}))
    {%- elif datepart == 'quarter' -%}
        ((year({{ b }}) - year({{ a }})) * 4 + quarter({{ b }}) - quarter({{ a }}))
    {%- elif datepart == 'month' -%}
        ((year({{ b }}) - year({{ a }})) * 12 + month({{ b }}) - month({{ a }}))
    {%- elif datepart == 'day' -%}
        datediff({{ b }}, {{ a }})
    {%- else -%}
        {{ dbt_spark.spark__datediff(first_date, second_date, datepart) }}
    {%- endif -%}
{%- endmacro %}


{#
  dbt-spark ignores order_by_clause (with a warning): collect_list keeps no order. Sort the
  (keys…, measure) structs instead, reversed for descending keys. Keys must all sort the same way;
  null keys come first ascending, where DuckDB puts them last.
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set keys_text = modules.re.sub('(?i)^\\s*order\\s+by\\s+', '', order_by_clause) -%}
        {%- set keys = [] -%}
        {%- set directions = [] -%}
        {%- for key in keys_text.split(',') -%}
            {%- set match = modules.re.match('(?is)^\\s*(.*?)(?:\\s+(asc|desc))?\\s*$', key) -%}
            {%- do keys.append(match.group(1)) -%}
            {%- do directions.append((match.group(2) or 'asc') | lower) -%}
        {%- endfor -%}
        {%- if directions | unique | list | length > 1 -%}
            {{ exceptions.raise_compiler_error("listagg on Spark: keys of one order_by_clause must all be asc or all desc: " ~ order_by_clause) }}
        {%- endif -%}
        {%- set fields = [] -%}
        {%- for key in keys -%}
            {%- do fields.append(key ~ ' as k' ~ loop.index) -%}
        {%- endfor -%}
        {%- set sorted -%}
            array_sort(collect_list(struct({{ fields | join(', ') }}, {{ measure }} as v)))
        {%- endset -%}
        {%- if directions[0] == 'desc' -%}{%- set sorted = 'reverse(' ~ sorted ~ ')' -%}{%- endif -%}
        {%- set collected = 'transform(' ~ sorted ~ ', x -> x.v)' -%}
    {%- else -%}
        {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}{%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}{%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}


{# dbt-duckdb keeps dbt's default cast(): an error, not a null, on a value that does not convert. #}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
