"""The dbt unit tests (the metrics' arithmetic on fixed inputs) run here, in CI.

Builds of the warehouse leave them out (`orchestration.project.DBT_BUILD_ENV`): they check the SQL,
not the data. So this test runs every one of them against the warehouse `qiangji run` built (dbt
reads the column types of a unit test's parents from there), and checks that the production build
ran the data tests but not the unit tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from tests.support.warehouse_builds import DBT_PROJECT, dbt


def _unit_tests_in_project() -> set[str]:
    manifest = json.loads((DBT_PROJECT / "target" / "manifest.json").read_text())
    return set(manifest["unit_tests"])


def test_every_dbt_unit_test_passes(pipeline_home: Path, tmp_path: Path):
    shutil.copyfile(pipeline_home / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    dbt(tmp_path, "test", "--select", "test_type:unit")  # raises with dbt's failures
    results = json.loads((tmp_path / "dbt-duckdb" / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]  # and the on-run-start hook
    assert {r["unique_id"] for r in unit} == _unit_tests_in_project() and len(unit) >= 30
    assert {r["status"] for r in unit} == {"pass"}


def test_the_warehouse_build_runs_the_data_tests_and_not_the_unit_tests(pipeline_home: Path):
    with duckdb.connect(str(pipeline_home / "warehouse.duckdb"), read_only=True) as con:
        checks = [
            name
            for (name,) in con.execute(
                "SELECT check_name FROM audit.audit_check_results WHERE layer = 'dbt'"
            ).fetchall()
        ]
    assert len(checks) > 100  # the data tests, as audit rows
    unit_tests = {uid.split(".", 2)[2].replace(".", "::") for uid in _unit_tests_in_project()}
    assert not unit_tests & set(checks)
