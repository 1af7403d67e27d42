"""`qiangji run` end to end on generated submissions, checked against the generator's ground truth."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import run_cli

SKELETON_TARGETS = ["village_venue", "dev_female", "halfyear_committee_meeting"]
TARGETS_SEED = Path(__file__).parents[2] / "dbt_project" / "seeds" / "targets.csv"
ALL_TARGETS = [r["target_id"] for r in csv.DictReader(TARGETS_SEED.open(encoding="utf-8"))]


def _truth(landing: Path) -> dict[tuple[str, str, str], tuple[int, int]]:
    with open(landing.parent / "ground_truth.csv", encoding="utf-8", newline="") as f:
        return {
            (r["target_id"], r["district_code"], r["period"]): (
                int(r["numerator"]) if r["numerator"] else None,
                int(r["denominator"]) if r["denominator"] else None,
            )
            for r in csv.DictReader(f)
        }


def _marts(home: Path) -> dict[tuple[str, str, str], tuple[int | None, int | None, str]]:
    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT target_id, district_code, period, numerator, denominator, status"
            " FROM mart_target_attainment"
        ).fetchall()
    return {(t, d, p): (n, den, s) for t, d, p, n, den, s in rows}


@pytest.mark.parametrize("target_id", ALL_TARGETS)
def test_marts_equal_the_ground_truth(generated: Path, pipeline_home: Path, target_id: str):
    truth = {k: v for k, v in _truth(generated).items() if k[0] == target_id}
    marts = _marts(pipeline_home)
    assert truth, "the generator planted no truth for this target"
    mismatches = []
    for key, (numerator, denominator) in truth.items():
        got = marts.get(key)
        if denominator == 0 or (numerator is None and denominator is None):
            # an empty denominator (or a year without both halves) has no value: status no_data
            if got is None or got[2] != "no_data":
                mismatches.append((key, (numerator, denominator), got))
        elif got is None or got[:2] != (numerator, denominator):
            mismatches.append((key, (numerator, denominator), got))
    assert not mismatches, mismatches[:10]


def test_every_reporting_unit_and_period_has_a_row(pipeline_home: Path):
    with duckdb.connect(str(pipeline_home / "published" / "marts.duckdb"), read_only=True) as con:
        counts = dict(
            con.execute(
                "SELECT target_id, count(*) FROM mart_target_attainment"
                " WHERE target_id IN (?, ?, ?) GROUP BY 1",
                SKELETON_TARGETS,
            ).fetchall()
        )
        merged = con.execute(
            "SELECT min(period), max(period) FROM mart_target_attainment WHERE district_code = '120116'"
        ).fetchone()
    # 24 units report 2006H1..2009H2 (21 of them, 3 merged later) — see districts.csv:
    # 2006H1..2009H2: 24 units × 8 periods; 2010: 22 units × 2 periods; plus the city × 10.
    expected = 24 * 8 + 22 * 2 + 10
    assert counts == {t: expected for t in SKELETON_TARGETS}
    assert merged == ("2010H1", "2010H2")


def test_run_prints_the_attainment_table(pipeline_home: Path):
    log = (pipeline_home / "run.log").read_text()
    assert "target attainment" in log and "village_venue" in log


def test_no_national_id_or_name_reaches_the_warehouse(generated: Path, pipeline_home: Path):
    import fastexcel

    ids: set[str] = set()
    names: set[str] = set()
    for path in sorted(generated.glob("*.xlsx"))[:6]:
        sheet = fastexcel.read_excel(str(path)).load_sheet("党员", dtypes="string").to_polars()
        ids |= set(sheet["公民身份号码"].to_list())
        names |= set(sheet["姓名"].to_list())
    assert ids and names
    for db in (pipeline_home / "warehouse.duckdb", pipeline_home / "published" / "marts.duckdb"):
        with duckdb.connect(str(db), read_only=True) as con:
            text_columns = con.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('information_schema', 'pg_catalog')"
            ).fetchall()
            for schema, table, column in text_columns:
                values = {
                    v
                    for (v,) in con.execute(
                        f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}"'
                    ).fetchall()
                    if v
                }
                assert not values & ids, f"national ID in {db.name}:{schema}.{table}.{column}"
                assert not values & names, f"name in {db.name}:{schema}.{table}.{column}"
    # every other file the run wrote: logs, Dagster's storage (run and event logs, compute logs)
    needles = [v.encode() for v in ids | names]
    scanned = 0
    for path in pipeline_home.rglob("*"):
        if not path.is_file() or "archive" in path.parts or path.suffix in (".duckdb", ".wal"):
            continue
        data = path.read_bytes()
        scanned += 1
        assert not any(n in data for n in needles), f"a national ID or name in {path}"
    assert scanned >= 3  # run.log, logs/dbt.log, Dagster's sqlite storage at least


def _published(home: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _last_run(home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, set[str], str]:
    """The job of the home's latest run, the assets it materialized and the dbt command it ran."""
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs(limit=1)
        kind = dg.DagsterEventType.ASSET_MATERIALIZATION
        records = instance.get_records_for_run(run.run_id, of_type=kind).records
        built = {r.event_log_entry.asset_materialization.asset_key.to_user_string() for r in records}
        messages = [e.user_message for e in instance.all_logs(run.run_id)]
        [command] = [m for m in messages if m.startswith("Running dbt command:")]
        return run.job_name, built, command


@pytest.mark.slow
def test_a_resubmission_refreshes_what_it_changes_as_a_full_rebuild_would(
    generated: Path, pipeline_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`qiangji run` after one district's correction rebuilds what reads the raw tables — the facts
    incrementally — and leaves the seeds; every mart then equals a rebuild from scratch."""
    home, landing = tmp_path / "home", tmp_path / "landing"
    shutil.copytree(pipeline_home, home)
    shutil.copytree(generated, landing)
    write_xlsx(landing / "120104_2010H2_v2.xlsx", minimal_sheets("120104", "2010H2"))
    marts = ["mart_target_attainment", "mart_target_attainment_current_districts", "mart_submission_status",
             "mart_organization_coverage", "mart_member_development", "mart_cadre_training"]  # fmt: skip

    run_cli("run", "--home", str(home), "--landing", str(landing))
    job, built, command = _last_run(home, monkeypatch)
    assert job == "load_and_refresh" and "--full-refresh" not in command
    assert {
        "submission",
        "fct_member_snapshot",
        "mart_target_attainment",
        "published/mart_target_attainment",
    } <= built
    assert not built & {"periods", "reporting_units", "dim_district", "dim_target"}
    refreshed = {t: _published(home, t) for t in marts}
    assert refreshed["mart_target_attainment"] != _published(pipeline_home, "mart_target_attainment")

    run_cli("run", "--home", str(home), "--landing", str(landing), "--full-rebuild")
    job, built, command = _last_run(home, monkeypatch)
    assert job == "qiangji_pipeline" and {"periods", "dim_district"} <= built
    assert "dbt build --full-refresh" in command  # the facts from scratch, not incrementally
    assert {t: _published(home, t) for t in marts} == refreshed
