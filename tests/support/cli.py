"""The `qiangji` command as a subprocess, the way a user runs it: quiet, offline, with the test key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QIANGJI = str(Path(sys.executable).with_name("qiangji"))
TEST_KEY = "test-key-not-a-secret-at-least-32-bytes"


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a `qiangji` subprocess: quiet, the test key, and no DAGSTER_HOME (the
    command puts the instance under its --home)."""
    from orchestration.project import QUIET_TELEMETRY

    env = {**os.environ, **QUIET_TELEMETRY, "QIANGJI_PSEUDONYM_KEY": TEST_KEY, **extra}
    env.pop("DAGSTER_HOME", None)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = cli_env(**(env or {}))
    result = subprocess.run([QIANGJI, *args], capture_output=True, text=True, env=full_env, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(
            f"qiangji {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result
