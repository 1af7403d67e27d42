"""`make dev` as a new user meets it: the UI and the daemon running, a workbook dropped into the landing
folder, a run starting by itself, its checks recorded, and the published marts updated — all through
the real `qiangji dev` (dagster dev: webserver, daemon, run launcher) in a temporary home."""

import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.support.cli import QIANGJI, ROOT, cli_env
from tests.support.processes import free_port, stop_process_group

RUNS_QUERY = """{ runsOrError { ... on Runs { results { runId jobName status } } } }"""


def _graphql(opener: urllib.request.OpenerDirector, url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def _wait(what: str, seconds: float, probe, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, f"qiangji dev exited:\n{log.read_text()[-4000:]}"
        try:
            value = probe()
        except OSError:
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not within {seconds:.0f} s:\n{log.read_text()[-4000:]}"
        time.sleep(2)


@pytest.mark.slow
def test_a_dropped_workbook_is_loaded_checked_and_published_while_make_dev_runs(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home, landing, log = tmp_path / "home", tmp_path / "home" / "landing", tmp_path / "dev.log"
    landing.mkdir(parents=True)
    port = free_port()
    env = cli_env()  # `qiangji dev` puts DAGSTER_HOME under the home
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [QIANGJI, "dev", "--home", str(home), "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # webserver, daemon, code servers and runs stop with the group
        )
    local = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait("the UI", 120, lambda: local.open(f"{url}/server_info", timeout=2).status == 200, proc, log)
        workbook = sorted(generated.glob("*_2008H2.xlsx"))[0]
        district = workbook.name.split("_")[0]
        shutil.copyfile(
            workbook, landing / f".{workbook.name}.part"
        )  # copied, then renamed, as clerks' tools do
        (landing / f".{workbook.name}.part").rename(landing / workbook.name)

        def finished() -> dict[str, str] | None:
            runs = _graphql(local, url, RUNS_QUERY)["runsOrError"]["results"]
            failed = [r for r in runs if r["status"] in ("FAILURE", "CANCELED")]
            assert not failed, f"{failed}\n{log.read_text()[-4000:]}"
            done = {r["jobName"]: r["runId"] for r in runs if r["status"] == "SUCCESS"}
            return done if {"ingest_submissions", "nightly_rebuild"} <= done.keys() else None

        runs = _wait("an ingest run and a rebuild", 420, finished, proc, log)

        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
        instance = dg.DagsterInstance.get()
        try:
            [ingest_run] = instance.get_runs(dg.RunsFilter(job_name="ingest_submissions"))
            assert ingest_run.tags["dagster/partition"] == f"{district}|2008H2"
            assert ingest_run.tags["qiangji/file"] == workbook.name

            def checks(run_id: str) -> list[str]:
                events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
                return [e.dagster_event.event_specific_data.check_name for e in events]

            assert checks(ingest_run.run_id), "the ingest run recorded no pandera checks"
            rebuild_checks = checks(runs["nightly_rebuild"])
            assert "raw_integrity" in rebuild_checks
            assert len(rebuild_checks) > 50  # dbt tests and GX suites
        finally:
            instance.dispose()
    finally:
        stop_process_group(proc)

    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as con:
        status = con.execute(
            "SELECT submission_status, current_file_name FROM mart_submission_status"
            " WHERE district_code = ? AND period = '2008H2'",
            [district],
        ).fetchall()
        published_units = con.execute(
            "SELECT count(DISTINCT district_code) FROM mart_target_attainment"
        ).fetchone()
    assert status and status[0][1] == workbook.name
    assert published_units[0] >= 1
    assert (home / "published" / "dashboard.html").exists()
