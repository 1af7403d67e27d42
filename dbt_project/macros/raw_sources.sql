{#
  The raw layer per target. DuckDB reads the raw.* tables ingest writes into the warehouse itself.
  Spark reads the Parquet files `qiangji export-raw` writes (warehouse/export.py): before every run,
  each source table of `raw` is declared over `$QIANGJI_RAW_PARQUET/<table>`. Dropping first keeps
  the metastore pointing at the folder of this run (an external table's files are never deleted);
  Spark lists a table's files when it is declared, so new submissions are seen.
#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}
{% endmacro %}

{% macro spark__register_raw_sources() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set location = env_var('QIANGJI_RAW_PARQUET', '') | trim %}
    {% if not location %}
        {{ exceptions.raise_compiler_error(
            "QIANGJI_RAW_PARQUET is not set: on Spark the raw tables are read from the Parquet folder "
            ~ "`qiangji export-raw --home <home> --out <folder>` writes (an absolute path or a URI)") }}
    {% endif %}
    {% set location = location.rstrip('/') %}
    {% set raw_tables = graph.sources.values() | selectattr('source_name', 'equalto', 'raw') | list %}
    {% do run_query('create database if not exists raw') %}
    {% for raw in raw_tables %}
        {% do run_query('drop table if exists raw.' ~ raw.identifier) %}
        {% do run_query(
            'create table raw.' ~ raw.identifier ~ " using parquet location '" ~ location ~ '/' ~ raw.identifier ~ "'"
        ) %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}
