"""The audit trail: one row per check of every run, whatever layer ran it (pandera, dbt, GX).

`audit.audit_check_results` lives in the warehouse and is published, so that "what failed for
district X in period P, and when was it fixed" is one query:

    SELECT checked_at, layer, check_name, passed, failing_count
    FROM audit_check_results WHERE district_code = 'X' AND period = 'P' ORDER BY checked_at;
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import duckdb
import polars as pl

AUDIT_TABLE = "audit.audit_check_results"
AUDIT_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "checked_at": pl.Datetime("us"),
    "layer": pl.String(),  # pandera | dbt | gx
    "check_name": pl.String(),
    "asset": pl.String(),
    "district_code": pl.String(),
    "period": pl.String(),
    "submission_id": pl.String(),
    "passed": pl.Boolean(),
    "failing_count": pl.Int64(),
    "severity": pl.String(),  # blocking | warning
    "details": pl.String(),
}
_SQL = {pl.String(): "VARCHAR", pl.Datetime("us"): "TIMESTAMP", pl.Boolean(): "BOOLEAN", pl.Int64(): "BIGINT"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_audit_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    columns = ", ".join(f"{name} {_SQL[dtype]}" for name, dtype in AUDIT_SCHEMA.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} ({columns})")


def audit_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=AUDIT_SCHEMA)


def write_audit_rows(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    ensure_audit_table(con)
    if frame.height:
        con.register("_audit_rows", frame.to_arrow())
        try:
            con.execute(f"INSERT INTO {AUDIT_TABLE} BY NAME SELECT * FROM _audit_rows")
        finally:
            con.unregister("_audit_rows")
    return frame.height


def pandera_rows(outcome: Any, rules: list[str], run_id: str, checked_at: dt.datetime) -> pl.DataFrame:
    """Every rule checked on a submission (passed or not), from an `IngestOutcome`.

    `rules` are the rule ids the models check; a rejected submission adds its structural rule.
    Failing counts are rows with that rule's problem (warnings are counted, severity warning).
    """
    problems = outcome.problems
    counts = (
        dict(problems.filter(pl.col("severity") != "structural").group_by("rule").len().iter_rows())
        if problems.height
        else {}
    )
    warnings = (
        set(problems.filter(pl.col("severity") == "warning")["rule"].to_list()) if problems.height else set()
    )
    base = {
        "run_id": run_id,
        "checked_at": checked_at,
        "layer": "pandera",
        "asset": "raw",
        "district_code": outcome.district_code,
        "period": outcome.period,
        "submission_id": outcome.submission_id,
    }
    rows = [
        {
            **base,
            "check_name": rule,
            "passed": counts.get(rule, 0) == 0,
            "failing_count": counts.get(rule, 0),
            "severity": "warning" if rule in warnings else "blocking",
            "details": None,
        }
        for rule in sorted(set(rules) | set(counts))
    ]
    rows.append(
        {
            **base,
            "check_name": "submission_accepted",
            "passed": outcome.status in ("accepted", "unchanged", "superseded"),
            "failing_count": 0 if outcome.reason is None else 1,
            "severity": "warning",
            "details": None
            if outcome.reason is None
            else f"{outcome.reason.rule}: {outcome.reason.message_en}",
        }
    )
    return audit_frame(rows)


def dbt_rows(run_results: dict[str, Any], run_id: str, checked_at: dt.datetime) -> pl.DataFrame:
    """Every dbt test (data and unit tests) of a `dbt build`, from its run_results.json."""
    rows = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith(("test.", "unit_test.")):
            continue
        status = str(result.get("status"))
        parts = unique_id.split(".")  # test.<project>.<name>.<hash> | unit_test.<project>.<model>.<name>
        is_unit = unique_id.startswith("unit_test.")
        rows.append(
            {
                "run_id": run_id,
                "checked_at": checked_at,
                "layer": "dbt",
                "check_name": f"{parts[2]}::{parts[3]}" if is_unit else parts[2],
                "asset": parts[2] if is_unit else None,
                "district_code": None,
                "period": None,
                "submission_id": None,
                "passed": status == "pass",
                "failing_count": int(result.get("failures") or 0) if status != "pass" else 0,
                "severity": "warning" if status == "warn" else "blocking",
                "details": (result.get("message") or None) if status != "pass" else None,
            }
        )
    return audit_frame(rows)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def gx_rows(suite_outcomes: list[Any], run_id: str, checked_at: dt.datetime) -> pl.DataFrame:
    """Every expectation of every GX suite, from `expectations.suites.SuiteOutcome`s.

    One row per expectation for the whole warehouse; a failed row query that names submissions
    adds one row per failing submission (district and period filled by `locate_submissions`),
    so a failed expectation is traced to its files, and through `source_row` to their rows.
    `details` is JSON: the error if it could not be evaluated, and a sample of the failing rows.
    """
    rows = []
    for suite in suite_outcomes:
        for o in suite.outcomes:
            base = {
                "run_id": run_id,
                "checked_at": checked_at,
                "layer": "gx",
                "check_name": f"{suite.suite}: {o.name}",
                "asset": suite.table,
                "district_code": None,
                "period": None,
                "severity": o.severity,
            }
            failing = o.unexpected_count if o.unexpected_count is not None else (0 if o.success else 1)
            summary = {k: v for k, v in {"error": o.error, "sample": o.sample}.items() if v}
            rows.append(
                {
                    **base,
                    "submission_id": None,
                    "passed": o.success,
                    "failing_count": failing,
                    "details": _json(summary) if summary else None,
                }
            )
            for submission_id, count in sorted(o.failing_by_submission.items()):
                sample = [r for r in o.sample if str(r.get("submission_id")) == submission_id]
                rows.append(
                    {
                        **base,
                        "submission_id": submission_id,
                        "passed": False,
                        "failing_count": count,
                        "details": _json({"sample": sample}) if sample else None,
                    }
                )
    return audit_frame(rows)


def locate_submissions(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Fill district and period of a run's audit rows that name a submission but not where it is from."""
    con.execute(
        f"UPDATE {AUDIT_TABLE} AS a SET district_code = s.district_code, period = s.period"
        " FROM raw.submissions AS s"
        " WHERE a.run_id = ? AND a.submission_id = s.submission_id AND a.district_code IS NULL",
        [run_id],
    )
