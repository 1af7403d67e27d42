"""The Great Expectations layer's rows of the audit trail: every expectation of every suite."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl

from expectations.suites import SuiteOutcome
from warehouse.audit import audit_frame
from warehouse.privacy import mask_ids_in_data


def _json(value: Any) -> str:
    """`details` as JSON, every ID-shaped token masked (the samples already are: defence in depth)."""
    return json.dumps(mask_ids_in_data(value), ensure_ascii=False, default=str, separators=(",", ":"))


def gx_rows(suite_outcomes: list[SuiteOutcome], run_id: str, checked_at: dt.datetime) -> pl.DataFrame:
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
