"""The pandera layer's rows of the audit trail: every rule checked on every ingested submission."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ingest.pipeline import IngestOutcome
from warehouse.audit import audit_frame


def pandera_rows(
    outcome: IngestOutcome, rules: list[str], run_id: str, checked_at: dt.datetime
) -> pl.DataFrame:
    """Every rule checked on a submission (passed or not), an ingest outcome.

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
