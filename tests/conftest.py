"""Shared fixtures: real files, real DuckDB, real dbt and Dagster runs in temporary folders."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/builders.py

ROOT = Path(__file__).resolve().parents[1]
QIANGJI = str(Path(sys.executable).with_name("qiangji"))
TEST_KEY = "test-key-not-a-secret"

# Quiet and offline for every test process.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a `qiangji` subprocess: quiet, the test key, and no DAGSTER_HOME (the
    command puts the instance under its --home)."""
    from ingest.environment import QUIET_TELEMETRY

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM to a process started with start_new_session=True and everything it started; SIGKILL
    after `grace` seconds."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo submissions for 2006H1..2010H2 at a small scale, with their ground truth."""
    out = tmp_path_factory.mktemp("landing")
    run_cli("generate", "--out", str(out), "--periods", "2006H1-2010H2", "--scale", "0.002", "--seed", "7")
    return out


@pytest.fixture(scope="session")
def pipeline_home(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`qiangji run` once over the generated landing folder; its home folder."""
    home = tmp_path_factory.mktemp("home")
    result = run_cli("run", "--home", str(home), "--landing", str(generated))
    (home / "run.log").write_text(result.stdout + result.stderr)
    return home


# The reliability suite's summary line (counts of bad-input cases, crash drills, idempotency, privacy).
from reliability.summary import pytest_terminal_summary  # noqa: E402, F401
