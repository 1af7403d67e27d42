"""Every test process: quiet and offline, and the reliability suite's summary line.

Helpers live in tests/support/ (`from tests.support.cli import run_cli`, ...); fixtures in the
conftest.py of the folder whose tests use them.
"""

from __future__ import annotations

import os

# The reliability suite's summary line (counts of bad-input cases, crash drills, idempotency, privacy).
pytest_plugins = ["tests.support.reliability_summary"]

# Quiet and offline for every test process.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Files a test writes are complete when it runs the pipeline: no quiet period (ingest.landing) to
# wait for. The tests of the quiet period set their own (tests/reliability/test_adversarial.py).
os.environ.setdefault("QIANGJI_LANDING_QUIET_SECONDS", "0")
