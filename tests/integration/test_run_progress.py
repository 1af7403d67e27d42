"""The progress bar of `qiangji run`: its state from a real run's events, and the bar in a real
pseudo-terminal (rich draws it only for a terminal; logs and CI get Dagster's lines instead)."""

import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from orchestration.progress import RunProgress
from orchestration.project import QUIET_TELEMETRY, prepare_dbt
from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import QIANGJI, ROOT, TEST_KEY, cli_env


def test_progress_counts_files_from_the_events_of_a_real_ingest_run(tmp_path: Path, monkeypatch):
    landing = tmp_path / "landing"
    landing.mkdir()
    (tmp_path / "dagster").mkdir()
    for name, value in {
        **QUIET_TELEMETRY,
        "QIANGJI_HOME": str(tmp_path),
        "QIANGJI_DEMO": "0",
        "QIANGJI_LANDING": str(landing),
        "QIANGJI_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "QIANGJI_PSEUDONYM_KEY": TEST_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    for district in ("120104", "120105", "120106"):
        write_xlsx(landing / f"{district}_2007H1.xlsx", minimal_sheets(district, "2007H1"))
    prepare_dbt()
    from orchestration.definitions import defs
    from orchestration.defs.ingest import all_partitions_tags, register_landing

    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        keys = register_landing(instance, landing)
        result = defs.resolve_job_def("ingest_submissions").execute_in_process(
            instance=instance, tags=all_partitions_tags(keys)
        )
        assert result.success
        entries = [
            r.event_log_entry for r in instance.get_records_for_run(result.run_id, limit=10_000).records
        ]

    progress = RunProgress(files_total=3, models_total=10, other_steps=4)
    seen = []
    for entry in entries:
        progress.apply(entry)
        seen.append((progress.description, progress.completed))
    assert ("loading submissions 1/3", 1) in seen and ("loading submissions 2/3", 2) in seen
    assert progress.files_done == 3 and progress.completed == 3 and progress.total == 17
    assert [c for _, c in seen] == sorted(c for _, c in seen), "progress never goes back"


@pytest.mark.slow
def test_qiangji_run_in_a_terminal_shows_a_progress_bar(generated: Path, tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in sorted(generated.glob("*_2009H1.xlsx"))[:3]:
        shutil.copyfile(path, landing / path.name)
    env = cli_env(TERM="xterm-256color", COLUMNS="120", LINES="40")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [QIANGJI, "run", "--home", str(tmp_path / "home"), "--landing", str(landing)],
        cwd=ROOT,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert proc.wait(timeout=60) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    # (the three small files load within one refresh: their count is tested above, from the events)
    assert re.search(r"dbt build \d+/\d+ .*━", screen), screen[-3000:]
    assert "publishing" in screen or "dashboard" in screen
    assert "PASS" not in screen and "[RUN]" not in screen  # dbt's own lines go to logs/dbt.log
    assert "target attainment" in screen  # the summary after the bar
    assert "INFO" not in screen  # Dagster's INFO lines are replaced by the bar in a terminal
