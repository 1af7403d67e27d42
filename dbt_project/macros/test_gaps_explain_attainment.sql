{#
  The gap list explains every row of the attainment mart (`model`): for each row of a target with
  a denominator (not a count), the shortfalls of its rows in `gaps` add up to denominator −
  numerator, and a row without a value (numerator or denominator empty) has no gap rows. Returns
  the rows where it does not hold.
#}
{% test gaps_explain_attainment(model, gaps) %}
with attainment as (
    select target_id, district_code, period, numerator, denominator
    from {{ model }}
    where target_kind <> 'count'
),

listed as (
    select target_id, district_code, period, sum(shortfall) as shortfall, count(*) as gap_rows
    from {{ gaps }}
    group by target_id, district_code, period
)

select
    coalesce(a.target_id, l.target_id) as target_id,
    coalesce(a.district_code, l.district_code) as district_code,
    coalesce(a.period, l.period) as period,
    a.numerator,
    a.denominator,
    l.shortfall,
    l.gap_rows
from attainment as a
full outer join listed as l
    on a.target_id = l.target_id and a.district_code = l.district_code and a.period = l.period
where
    a.target_id is null
    or (
        (a.numerator is null or a.denominator is null)
        and l.gap_rows is not null
    )
    or (
        a.numerator is not null and a.denominator is not null
        and a.denominator - a.numerator <> coalesce(l.shortfall, 0)
    )
{% endtest %}
