"""Incremental facts on DuckDB: a resubmission built incrementally gives what a full rebuild gives.

The incremental build is the refresh after new submissions (`REFRESH_SELECTOR`): only what reads the
raw tables is built, the seeds and their dimensions stay as the full build left them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestration.project import REFRESH_SELECTOR
from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.warehouse_builds import (
    dbt,
    duckdb_columns,
    duckdb_rows,
    generate_small_landing,
    ingest,
    ingest_folder,
)

FACTS = [
    "fct_unit_snapshot",
    "fct_organization_snapshot",
    "fct_member_snapshot",
    "fct_admission",
    "fct_activity",
    "fct_training_attendance",
]
pytestmark = pytest.mark.slow  # three dbt runs

MARTS = [
    "int_target_values",
    "mart_target_attainment",
    "mart_target_attainment_current_districts",
    "mart_organization_coverage",
    "mart_member_development",
    "mart_cadre_training",
    "mart_submission_status",
]


def _snapshot(home: Path) -> dict[str, list[tuple]]:
    return {t: duckdb_rows(home, t, duckdb_columns(home, t)) for t in FACTS + MARTS}


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = tmp_path_factory.mktemp("incremental")
    landing = generate_small_landing(home / "landing")
    assert set(ingest_folder(home, landing)) == {"accepted"}
    dbt(home, "build")
    before = _snapshot(home)

    # 南开区 resubmits 2010H1: other units, members and activities, and no 培训 rows at all (the
    # previous version's training rows must go although the batch has none to replace them)
    sheets = minimal_sheets("120104", "2010H1")
    sheets["培训"] = []
    v2 = write_xlsx(home / "120104_2010H1_v2.xlsx", sheets)
    assert ingest(home, v2) == ["accepted"]

    dbt(home, "build", "--selector", REFRESH_SELECTOR)  # models and their tests, as the refresh job
    incremental = _snapshot(home)
    results = json.loads((home / "dbt-duckdb" / "run_results.json").read_text())["results"]
    built = [r["unique_id"].split(".") for r in results]
    refreshed = {name for kind, _, name, *_ in built if kind in ("model", "seed")}
    compiled = (home / "dbt-duckdb" / "run" / "qiangji" / "models" / "core").glob("fct_*.sql")
    delete_insert = {p.stem for p in compiled if "delete from" in p.read_text()}
    dbt(home, "run", "--full-refresh")
    return {
        "refreshed": refreshed,
        "before": before,
        "incremental": incremental,
        "full": _snapshot(home),
        "delete_insert": delete_insert,
    }


def test_the_facts_were_built_incrementally(rebuilt):
    assert rebuilt["delete_insert"] == set(FACTS)


def test_the_refresh_leaves_the_seeds_and_their_dimensions(rebuilt):
    assert set(FACTS + MARTS) <= rebuilt["refreshed"]
    assert not rebuilt["refreshed"] & {"dim_district", "dim_period", "dim_target", "periods", "targets"}


@pytest.mark.parametrize("table", FACTS + MARTS)
def test_incremental_equals_full_refresh(rebuilt, table: str):
    assert rebuilt["incremental"][table] == rebuilt["full"][table]


def test_the_resubmission_replaced_the_earlier_version(rebuilt):
    def rows_of(snapshot: dict[str, list[tuple]], table: str) -> list[tuple]:
        # district_code and period lead every fact's columns
        return [r for r in snapshot[table] if r[0] == "120104" and r[1] == "2010H1"]

    assert rows_of(rebuilt["before"], "fct_training_attendance")
    assert rows_of(rebuilt["incremental"], "fct_training_attendance") == []
    assert len(rows_of(rebuilt["incremental"], "fct_unit_snapshot")) == 4  # minimal_sheets' 单位 rows
    assert rebuilt["before"]["mart_target_attainment"] != rebuilt["incremental"]["mart_target_attainment"]
