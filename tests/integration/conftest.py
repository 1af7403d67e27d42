"""Fixtures of the integration tests: one demo landing folder and one `qiangji run` over it, shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli

STRAY_FILE = "notes.csv"


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo submissions for 2006H1..2010H2 at a small scale in `demo/landing`, their ground truth
    beside it (`demo/ground_truth.csv`, never in the landing folder)."""
    out = tmp_path_factory.mktemp("demo") / "landing"
    run_cli("generate", "--out", str(out), "--periods", "2006H1-2010H2", "--scale", "0.002", "--seed", "7")
    # a stray file, as landing folders get: the run rejects it for its name (a warning, not a failure)
    (out / STRAY_FILE).write_text("unit,count\n120101,3\n", encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def pipeline_home(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`qiangji run` once over the generated landing folder; its home folder."""
    home = tmp_path_factory.mktemp("home")
    result = run_cli("run", "--home", str(home), "--landing", str(generated))
    (home / "run.log").write_text(result.stdout + result.stderr)
    return home
