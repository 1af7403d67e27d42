"""The reliability suite's summary line: how many cases of each kind ran, and how they ended.

A pytest plugin, registered by `pytest_plugins` in tests/conftest.py: the line is printed whenever
tests of tests/reliability/ ran, whatever else ran with them.
"""

from __future__ import annotations

import pytest

SUITE = "tests/reliability/"
# test function name prefix -> the kind of case it is
KINDS = {
    "test_bad_input_case": "bad-input cases",
    "test_structural_error": "bad-input cases",
    "test_row_rule": "bad-input cases",
    "test_warning": "bad-input cases",
    "test_crash_": "crash drills",
    "test_idempotent_": "idempotency",
    "test_privacy_": "privacy",
}


def _kind(nodeid: str) -> str | None:
    name = nodeid.split("::")[-1]
    return next((kind for prefix, kind in KINDS.items() if name.startswith(prefix)), None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = dict.fromkeys(dict.fromkeys(KINDS.values()), 0)
    outcomes = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if not nodeid.startswith(SUITE) or getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if report.when == "setup" and outcome == "passed":
                continue  # a passed setup is followed by its call
            outcomes[outcome] += 1
            if kind := _kind(nodeid):
                counts[kind] += 1
    for report in terminalreporter.stats.get("error", []):
        if getattr(report, "nodeid", "").startswith(SUITE):
            outcomes["failed"] += 1
            if kind := _kind(report.nodeid):
                counts[kind] += 1
    if not any(outcomes.values()):
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    terminalreporter.write_line(
        f"reliability: {kinds} — {outcomes['passed']} passed, {outcomes['failed']} failed, "
        f"{outcomes['skipped']} skipped"
    )
