{#
  Fact tables are incremental: a build only touches what changed in the submissions.
  A fact row belongs to one submission (submission_id) of one reporting unit and period, and a
  submission's rows never change; a new version replaces the whole (district_code, period).

  DuckDB: `delete+insert` on (district_code, period). The batch is the rows of the current
  submissions the table does not hold yet; rows of submissions that are no longer current are
  deleted first (a new version may have no rows in a sheet, so the batch alone cannot remove them).

  Spark (Parquet, no DELETE): `insert_overwrite` of partitions by period. The batch is every
  current row of the periods where a current submission has rows the table does not hold yet;
  partitions holding rows of superseded submissions are dropped first, which makes their periods
  new and rewritten whole.

  Either way a full refresh gives the same rows (tests/integration/test_incremental.py). Change a
  fact's columns, or the periods seed, and run once with --full-refresh (on_schema_change: fail).
#}
{% macro incremental_fact() %}
    {% if target.type == 'spark' %}
        {{ config(
            materialized='incremental',
            incremental_strategy='insert_overwrite',
            partition_by=['period'],
            file_format='parquet',
            on_schema_change='fail',
            pre_hook="{{ remove_superseded_fact_rows() }}",
        ) }}
    {% else %}
        {{ config(
            materialized='incremental',
            incremental_strategy='delete+insert',
            unique_key=['district_code', 'period'],
            on_schema_change='fail',
            pre_hook="{{ remove_superseded_fact_rows() }}",
        ) }}
    {% endif %}
{% endmacro %}


{#
  The rows of the batch. `current` is the alias of int_current_submissions in the fact's query,
  `rows` the staging model the fact's rows come from. On Spark a period is rewritten when one of
  its current submissions has rows the table does not hold; a submission without any rows in this
  sheet never makes its period new again.
#}
{% macro fact_batch(current, rows) %}
    {%- if not is_incremental() -%}
        true
    {%- elif target.type == 'spark' -%}
        {{ current }}.period in (
            select n.period
            from {{ ref('int_current_submissions') }} as n
            where
                not exists (select 1 from {{ this }} as f where f.submission_id = n.submission_id)
                and exists (
                    select 1 from {{ rows }} as r where r.submission_id = n.submission_id and not r.is_quarantined
                )
        )
    {%- else -%}
        not exists (select 1 from {{ this }} as f where f.submission_id = {{ current }}.submission_id)
    {%- endif -%}
{% endmacro %}


{% macro remove_superseded_fact_rows() %}
    {% if not execute or not is_incremental() %}{{ return('') }}{% endif %}
    {% if target.type == 'spark' %}
        {% set stale = run_query(
            'select distinct f.period from ' ~ this ~ ' as f where not exists (select 1 from '
            ~ ref('int_current_submissions') ~ ' as c where c.submission_id = f.submission_id)'
        ) %}
        {% for period in stale.columns[0].values() %}
            {% do run_query('alter table ' ~ this ~ " drop if exists partition (period = '" ~ period ~ "')") %}
        {% endfor %}
        {{ return('') }}
    {% else %}
        {{ return(
            'delete from ' ~ this ~ ' where submission_id not in (select submission_id from '
            ~ ref('int_current_submissions') ~ ')'
        ) }}
    {% endif %}
{% endmacro %}
