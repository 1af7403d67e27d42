"""Fixtures of the integration tests: one demo landing folder and one `qiangji run` over it, shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_cli


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
