"""GX suites really evaluate inside DuckDB; audit rows; offline Data Docs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from expectations import gx_duckdb
from expectations.audit_rows import gx_rows
from expectations.data_docs import render_data_docs
from expectations.suites import SAMPLE_ROWS, SUITES, run_suite, run_suites
from orchestration.project import dbt_rows
from warehouse.audit import AUDIT_TABLE, now, write_audit_rows


@pytest.fixture(scope="module")
def warehouse(pipeline_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("quality") / "warehouse.duckdb"
    shutil.copyfile(pipeline_home / "warehouse.duckdb", copy)
    return copy


@pytest.fixture(scope="module")
def outcomes(warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    return run_suites(warehouse, tmp_path_factory.mktemp("gx"))


def test_every_expectation_is_evaluated(outcomes):
    assert {o.suite for o in outcomes} == set(SUITES)
    for suite in outcomes:
        assert suite.outcomes, suite.suite
        for o in suite.outcomes:
            assert o.error is None, (suite.suite, o.name, o.error)
            assert o.unexpected_count is not None or o.observed is not None, (suite.suite, o.name)
    blocking = [o for s in outcomes for o in s.blocking_failures]
    assert not blocking, blocking  # generated data is valid: integrity holds


def test_generated_data_raises_no_warning(outcomes):
    """The demo is consistent as a careful district's file is: a warning on it is a wrong check or
    a wrong generator (a newcomer's first run must not warn about its own demo)."""
    warnings = [(o.suite, o.name, o.unexpected_count) for s in outcomes for o in s.outcomes if not o.success]
    assert warnings == []


MEMBERS_MATCH = "declared members of the units an organization covers match"


def _without_the_members_of_one_organization(warehouse: Path, copy: Path) -> tuple[str, str]:
    """A copy of the warehouse without the registered members of one organization (without
    sub-organizations) whose units declare ten or more; its (submission, organization)."""
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        submission, org = con.execute(
            "SELECT u.submission_id, u.covering_org_code FROM main.fct_unit_snapshot u"
            " WHERE u.is_covered AND NOT u.is_reporting_committee AND u.member_count IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM main.fct_organization_snapshot c"
            " WHERE c.submission_id = u.submission_id AND c.parent_org_code = u.covering_org_code)"
            " GROUP BY ALL HAVING sum(u.member_count) >= 10 ORDER BY 1, 2 LIMIT 1"
        ).fetchone()
        con.execute(
            "DELETE FROM main.fct_member_snapshot WHERE submission_id = ? AND org_code = ?", [submission, org]
        )
    return submission, org


def test_declared_members_that_are_not_registered_are_named(warehouse: Path, tmp_path: Path):
    """Take away the registered members of an organization whose units declare ten or more: the
    warning names that organization, in that submission."""
    tampered = tmp_path / "tampered.duckdb"
    submission, org = _without_the_members_of_one_organization(warehouse, tampered)
    suite = run_suite(tampered, "fct_unit_snapshot")
    [outcome] = [o for o in suite.outcomes if o.name.startswith(MEMBERS_MATCH)]
    assert not outcome.success and outcome.unexpected_count == 1, outcome
    assert [(r["submission_id"], r["org_code"]) for r in outcome.sample] == [(submission, org)]
    assert outcome.failing_by_submission == {submission: 1}


def test_a_failing_expectation_names_the_file_and_row(warehouse: Path, tmp_path: Path):
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("UPDATE main.fct_member_snapshot SET person_key = 'short' WHERE source_row <= 4")
        # what the audit trail must keep: the first failing rows in order, whatever order a
        # parallel scan returns them in (so that two loads of the same files audit the same)
        expected_sample = con.execute(
            "SELECT submission_id, source_row FROM main.fct_member_snapshot WHERE person_key = 'short'"
            f" ORDER BY ALL LIMIT {SAMPLE_ROWS}"
        ).fetchall()
        per_submission = dict(
            con.execute(
                "SELECT submission_id, count(*) FROM main.fct_member_snapshot"
                " WHERE person_key = 'short' GROUP BY ALL"
            ).fetchall()
        )
    [suite] = run_suites(broken, names=["fct_member_snapshot_suite"])
    [failed] = [o for o in suite.outcomes if not o.success and "64-character pseudonym" in o.name]
    assert failed.severity == "blocking" and failed.unexpected_count > SAMPLE_ROWS
    assert [(r["submission_id"], r["source_row"]) for r in failed.sample] == expected_sample
    assert failed.failing_by_submission == per_submission


def test_a_broken_connection_fails_never_passes(tmp_path: Path, monkeypatch):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(Exception):  # noqa: B017 - any error is right; a quiet pass is not
        run_suites(empty, names=["mart_target_attainment_suite"])


def test_without_a_persisted_connection_results_fail_rather_than_pass(warehouse: Path, monkeypatch):
    # The known GX-on-DuckDB failure: the engine closes its connection before fetching. Without
    # the fix every expectation must come back failed (or raise), never passed.
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    monkeypatch.setattr(gx_duckdb, "_persist_duckdb_connections", lambda: None)
    monkeypatch.setattr(
        engine,
        "_PERSISTED_CONNECTION_DIALECTS",
        tuple(d for d in engine._PERSISTED_CONNECTION_DIALECTS if d != "duckdb"),
    )
    try:
        [suite] = run_suites(warehouse, names=["mart_target_attainment_suite"])
    except Exception:
        return
    assert not any(o.success for o in suite.outcomes)


def test_audit_rows_and_offline_data_docs(warehouse: Path, outcomes, tmp_path: Path):
    # a warning failing for one submission (the generated data raises none): the unit suite again
    # on a copy without one organization's members
    tampered = tmp_path / "tampered.duckdb"
    _without_the_members_of_one_organization(warehouse, tampered)
    warehouse, unit_suite = tampered, run_suite(tampered, "fct_unit_snapshot")
    outcomes = [unit_suite if s.suite == unit_suite.suite else s for s in outcomes]
    run_results = {
        "results": [
            {"unique_id": "test.qiangji.not_null_x.abc", "status": "pass", "failures": 0},
            {
                "unique_id": "test.qiangji.unique_y.def",
                "status": "fail",
                "failures": 3,
                "message": "3 results",
            },
            {"unique_id": "model.qiangji.fct_x", "status": "success"},
        ]
    }
    at = now()
    with duckdb.connect(str(warehouse)) as con:
        write_audit_rows(con, gx_rows(outcomes, "run-a", at))
        write_audit_rows(con, dbt_rows(run_results, "run-a", at))
        by_layer = dict(
            con.execute(
                f"SELECT layer, count(*) FROM {AUDIT_TABLE} WHERE run_id = 'run-a' GROUP BY 1"
            ).fetchall()
        )
        failed = con.execute(
            f"SELECT check_name, failing_count FROM {AUDIT_TABLE} WHERE run_id = 'run-a' AND layer = 'dbt'"
            " AND NOT passed"
        ).fetchall()
    # one row per expectation, and one per submission with rows failing a row query
    per_submission = sum(len(o.failing_by_submission) for s in outcomes for o in s.outcomes)
    assert per_submission == 1
    assert by_layer["dbt"] == 2 and by_layer["gx"] == sum(len(s.outcomes) for s in outcomes) + per_submission
    assert failed == [("unique_y", 3)]
    index = render_data_docs(warehouse, tmp_path / "data_docs", "run-a", outcomes)
    page = index.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page  # offline
    assert "mart_target_attainment_suite" in page and "unique_y" in page


def _reported_limit(value: str) -> str:
    """How DuckDB itself reports a memory limit of `value` (it rounds and names the unit)."""
    with duckdb.connect(config={"memory_limit": value}) as con:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_gx_and_dbt_query_within_the_duckdb_memory_limit(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """DuckDB would take 80% of the machine: GX's connection and dbt's profile set the limit."""
    import re

    import great_expectations as gx
    from sqlalchemy import text

    from orchestration.project import dbt_executable
    from warehouse.settings import DUCKDB_MEMORY_LIMIT

    monkeypatch.setenv("QIANGJI_DUCKDB_MEMORY_LIMIT", "1GiB")
    context = gx.get_context(mode="ephemeral")
    datasource = gx_duckdb.duckdb_datasource(context, "limit", warehouse)
    try:
        engine = datasource.get_execution_engine()
        with engine.get_connection() as con:
            gx_limit = con.execute(text("SELECT current_setting('memory_limit')")).scalar()
    finally:
        gx_duckdb.close_datasource(datasource)
    assert gx_limit == _reported_limit("1GiB") != _reported_limit(DUCKDB_MEMORY_LIMIT)

    project = Path(__file__).resolve().parents[2] / "dbt_project"
    shown = subprocess.run(
        [dbt_executable(), "show", "--inline", "select current_setting('memory_limit') as m",
         "--output", "json",
         "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(tmp_path),
         "--log-path", str(tmp_path)],
        env={**os.environ, "QIANGJI_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
        capture_output=True, text=True, cwd=project,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stdout[-2000:]
    assert f'"m": "{_reported_limit("1GiB")}"' in shown.stdout
    profile_default = re.search(
        r"QIANGJI_DUCKDB_MEMORY_LIMIT', '([^']+)'", (project / "profiles.yml").read_text()
    )
    assert profile_default and profile_default.group(1) == DUCKDB_MEMORY_LIMIT
