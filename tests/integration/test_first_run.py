"""The README's first ten minutes: `make run` in a fresh clone, as a newcomer (or CI) does it.

One run, several minutes: `git clone` of this repository into a temporary folder, then `make run`
with only Python 3.11 and `make` (a venv of its own; nothing of this process's environment but the
PATH without its venv). It must end well, say nothing alarming, reject nothing of the demo, and end
with where to look next. Its time is printed (pytest -s; `-ra` shows it in the summary as well).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import ROOT

PYTHON = "python3.11"
ALARMING = re.compile(r"warning|deprecat", re.IGNORECASE)


def _newcomer_env() -> dict[str, str]:
    """The environment of a fresh shell: no venv, no PYTHONPATH, no key, no Dagster home."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QIANGJI_", "DAGSTER_", "DBT_", "PYTEST", "VIRTUAL_ENV", "PYTHON"))
    }
    return {**env, "PATH": path}


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which(PYTHON) is None or shutil.which("make") is None, reason="needs python3.11, make"
)
@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_make_run_in_a_fresh_clone_is_quiet_rejects_nothing_and_says_where_to_look(tmp_path: Path):
    clone = tmp_path / "qiangji"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=300)
    shared = ROOT.parent / "shared"  # the spec the docs link to; nothing of `make run` reads it
    if shared.is_dir():
        shutil.copytree(shared, tmp_path / "shared", symlinks=True)
    began = time.perf_counter()
    done = subprocess.run(
        ["make", "run"], cwd=clone, env=_newcomer_env(), capture_output=True, text=True, timeout=3600
    )
    seconds = time.perf_counter() - began
    output = done.stdout + done.stderr
    print(f"make run in a fresh clone: {seconds:.0f} s, exit {done.returncode}")
    (tmp_path / "make_run.log").write_text(output)
    assert done.returncode == 0, output[-5000:]

    alarming = [line for line in output.splitlines() if ALARMING.search(line)]
    assert alarming == [], "\n".join(alarming[:20])
    assert " - INFO - " not in output  # not a terminal: short progress lines, not Dagster's log format
    assert re.search(r"^\[\d+:\d\d\] dbt build \d+/\d+$", done.stderr, re.M), done.stderr[-3000:]

    # the demo: every file accepted, nothing rejected (its ground truth is beside the landing folder)
    assert (clone / "data" / "ground_truth.csv").is_file()
    assert not (clone / "data" / "landing" / "ground_truth.csv").exists()
    summary = done.stdout[-3000:]
    assert re.search(r"files received: [\d,]+ — 0 rejected", done.stdout), summary
    assert re.search(r"this run: [\d,]+ files — [\d,]+ accepted, 0 rejected;", done.stdout), summary

    # the ending leads on: the pages as file:// URIs, the published file, the next commands
    data = (clone / "data").resolve()
    ending = done.stdout[done.stdout.index("where to look:") :]
    assert f"{(data / 'published' / 'dashboard.html').as_uri()}" in ending
    assert f"{(data / 'quality' / 'data_docs' / 'index.html').as_uri()}" in ending
    assert f"{(data / 'published' / 'docs' / 'index.html').as_uri()}" in ending
    assert (data / "published" / "gaps").as_uri() in ending
    assert str(data / "published" / "marts.duckdb") in ending
    assert "qiangji report" in ending and "qiangji report --gaps" in ending and "make dev" in ending

    # the runtime set-up only: no test, lint or Spark tools in the venv `make run` made
    venv = clone / ".venv"
    assert (venv / ".runtime-installed").exists() and not (venv / ".dev-installed").exists()
    assert not (venv / "bin" / "pytest").exists() and not (venv / "bin" / "ruff").exists()
    assert not list((venv / "lib").glob("python3.11/site-packages/pyspark"))
