-- The cross-database macros the project overrides (macros/cross_database) give the same answers on
-- every target: one row per case that does not, with what it gave.
-- It reads no model, yet depends on fct_admission (which uses dbt.dateadd): dagster-dbt attaches a
-- singular test to the one model it refs, so this is an asset check of fct_admission, run with it,
-- not a test outside Dagster's check selection that every run logs a warning about.
-- depends_on: {{ ref('fct_admission') }}
with cases as (
    select
        'safe_cast of a non-number is null' as case_name,
        cast({{ dbt.safe_cast("'12a'", dbt.type_int()) }} as {{ dbt.type_string() }}) as got,
        cast(null as {{ dbt.type_string() }}) as expected

    union all

    select
        'safe_cast of a number',
        cast({{ dbt.safe_cast("'12'", dbt.type_int()) }} as {{ dbt.type_string() }}),
        '12'

    union all

    select
        'dateadd of a null date is null',
        cast({{ dbt.dateadd('year', 1, 'cast(null as date)') }} as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }})

    union all

    select
        'dateadd of a year from 29 February',
        cast(cast({{ dbt.dateadd('year', 1, "cast('2008-02-29' as date)") }} as date) as {{ dbt.type_string() }}),
        '2009-02-28'

    union all

    select
        'dateadd of days',
        cast(cast({{ dbt.dateadd('day', 31, "cast('2008-06-30' as date)") }} as date) as {{ dbt.type_string() }}),
        '2008-07-31'

    union all

    select
        'datediff counts month boundaries',
        cast(
            {{ dbt.datediff("cast('2008-01-31' as date)", "cast('2008-03-01' as date)", 'month') }}
            as {{ dbt.type_string() }}
        ),
        '2'

    union all

    select
        'datediff of months backwards',
        cast(
            {{ dbt.datediff("cast('2008-03-01' as date)", "cast('2007-12-31' as date)", 'month') }}
            as {{ dbt.type_string() }}
        ),
        '-3'

    union all

    select
        'datediff counts year boundaries',
        cast(
            {{ dbt.datediff("cast('2007-12-31' as date)", "cast('2008-01-01' as date)", 'year') }}
            as {{ dbt.type_string() }}
        ),
        '1'

    union all

    select
        'datediff of days',
        cast(
            {{ dbt.datediff("cast('2008-02-01' as date)", "cast('2008-03-01' as date)", 'day') }}
            as {{ dbt.type_string() }}
        ),
        '29'
),

letters as (
    select 2 as k, 'b' as letter
    union all
    select 1 as k, 'a' as letter
    union all
    select 3 as k, 'c' as letter
),

ordered as (
    select
        'listagg keeps order by' as case_name,
        {{ dbt.listagg('letter', "'-'", 'order by k desc') }} as got,
        'c-b-a' as expected
    from letters

    union all

    select
        'listagg keeps order by and limit',
        {{ dbt.listagg('letter', "'-'", 'order by k', 2) }},
        'a-b'
    from letters
),

all_cases as (
    select case_name, got, expected from cases
    union all
    select case_name, got, expected from ordered
)

select case_name, got, expected
from all_cases
where not (got = expected or (got is null and expected is null))
