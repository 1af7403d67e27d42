"""The gap list (mart_target_gaps) on a real build: it explains the ground truth's numbers, names no
person, and labels every reason in Chinese and English."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import duckdb

SEEDS = Path(__file__).parents[2] / "dbt_project" / "seeds"
GAPS = "mart_target_gaps"


def _count_targets() -> set[str]:
    with open(SEEDS / "targets.csv", encoding="utf-8", newline="") as f:
        return {r["target_id"] for r in csv.DictReader(f) if r["target_kind"] == "count"}


def _published(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_gaps_of_every_row_add_up_to_denominator_minus_numerator(generated: Path, pipeline_home: Path):
    shortfall: dict[tuple[str, str, str], int] = defaultdict(int)
    for target, district, period, total in _published(
        pipeline_home, f"SELECT target_id, district_code, period, sum(shortfall) FROM {GAPS} GROUP BY 1, 2, 3"
    ):
        shortfall[(target, district, period)] = total
    counts = _count_targets()
    checked, mismatches = 0, []
    with open(generated.parent / "ground_truth.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["target_id"] in counts:
                continue
            key = (r["target_id"], r["district_code"], r["period"])
            if r["numerator"] and r["denominator"]:
                expected = int(r["denominator"]) - int(r["numerator"])
            else:
                expected = 0  # no value: no gap rows
            checked += 1
            if shortfall.pop(key, 0) != expected:
                mismatches.append((key, expected))
    assert checked > 4000 and not mismatches, mismatches[:10]
    # and no gap row outside the ground truth's rows
    assert not shortfall, list(shortfall)[:10]
    assert not {target for target, _, _ in shortfall} & counts


def test_every_target_with_a_denominator_has_gaps_and_the_city_lists_its_units(pipeline_home: Path):
    rows = _published(
        pipeline_home,
        f"SELECT target_id, item_level, count(*) FILTER (WHERE district_code = '120000'),"
        f" count(*) FILTER (WHERE district_code <> '120000') FROM {GAPS} GROUP BY 1, 2",
    )
    levels = {target: level for target, level, _, _ in rows}
    assert {levels[t] for t in ("soe_four_good", "village_venue", "npe50_org")} == {"unit"}
    assert {
        levels[t] for t in ("dev_female", "dev_process", "floating_managed", "rural_training_village")
    } == {"organization"}
    assert levels["halfyear_committee_meeting"] == "reporting_unit"
    assert all(city > 0 and units > 0 for target, _, city, units in rows if target != "univ_evaluation")


def test_no_person_reaches_the_gap_list(generated: Path, pipeline_home: Path):
    import fastexcel

    ids: set[str] = set()
    for path in sorted(generated.glob("*.xlsx"))[:6]:
        sheet = fastexcel.read_excel(str(path)).load_sheet("党员", dtypes="string").to_polars()
        ids |= set(sheet["公民身份号码"].to_list())
    with duckdb.connect(str(pipeline_home / "warehouse.duckdb"), read_only=True) as con:
        keys = {k for (k,) in con.execute("SELECT DISTINCT person_key FROM fct_member_snapshot").fetchall()}
    assert ids and keys
    with duckdb.connect(str(pipeline_home / "published" / "marts.duckdb"), read_only=True) as con:
        columns = [
            c
            for (c,) in con.execute(
                f"SELECT column_name FROM information_schema.columns WHERE table_name = '{GAPS}'"
            ).fetchall()
        ]
        assert not {c for c in columns if "person" in c or "national" in c}
        for column in columns:
            values = {
                str(v)
                for (v,) in con.execute(f"SELECT DISTINCT {column} FROM {GAPS}").fetchall()
                if v is not None
            }
            assert not values & keys, f"a person key in {GAPS}.{column}"
            assert not values & ids, f"a national ID in {GAPS}.{column}"
    assert (pipeline_home / "published" / "csv" / f"{GAPS}.csv").is_file()


def test_every_reason_has_its_labels(pipeline_home: Path):
    with open(SEEDS / "gap_reasons.csv", encoding="utf-8", newline="") as f:
        seed = {r["reason_code"]: (r["label_zh"], r["label_en"]) for r in csv.DictReader(f)}
    assert all(zh and en for zh, en in seed.values())
    listed = _published(pipeline_home, f"SELECT DISTINCT reason_code, reason_zh, reason_en FROM {GAPS}")
    assert listed and all(code and zh and en for code, zh, en in listed)
    assert {code: (zh, en) for code, zh, en in listed} == {code: seed[code] for code, _, _ in listed}
    # every reason an item model gives, even one this build did not list, is in the seed
    with duckdb.connect(str(pipeline_home / "warehouse.duckdb"), read_only=True) as con:
        items = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'int_target_items__%'"
        ).fetchall()]  # fmt: skip
        assert len(items) == 25
        given = set()
        for table in items:
            given |= {c for (c,) in con.execute(f"SELECT DISTINCT reason_code FROM {table}").fetchall() if c}
    assert given <= set(seed), given - set(seed)
