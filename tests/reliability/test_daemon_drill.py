"""Runs the daemon launched, killed with SIGKILL under `qiangji dev`, give their warehouse slot back.

The real `qiangji dev` (webserver, daemon, code server) runs in a temporary home. A workbook in the
landing folder gets its ingest run from the landing sensor; while that run's `submission` step
holds the one slot of the pool `duckdb_warehouse`:

- its run worker (a child of the code server) is killed with SIGKILL. The code server marks the run
  failed, but nothing of the run frees its slot: the daemon's run monitoring does,
  `free_slots_after_run_end_seconds` after the run's end (dagster.yaml). A second workbook dropped
  meanwhile gets the slot then, and its run succeeds. Without run monitoring, that second run would
  wait for the slot forever.
- or every process of `qiangji dev` is killed at once (a power cut): nothing marks the run failed.
  What `qiangji run` does first (`orchestration.recovery.fail_abandoned_runs`) fails it and frees
  its slot.

And without a daemon, `qiangji run` frees the slots ended runs still hold, as the daemon would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import pytest
import yaml

from generator import generate_submissions
from orchestration.defs.jobs import INGEST_SUBMISSIONS
from orchestration.recovery import fail_abandoned_runs, free_ended_runs_slots
from orchestration.resources import WAREHOUSE_POOL
from tests.support.cli import QIANGJI, ROOT, cli_env
from tests.support.processes import free_port, stop_process_group

PERIOD = "2007H2"
FILE_TAG = "qiangji/file"  # the landing sensor's tag: which file a run ingests
T = TypeVar("T")


class DevServer:
    """`qiangji dev` in a process group of its own, and the instance it runs on."""

    def __init__(self, home: Path, log: Path):
        self.home, self.log = home, log
        self.port = free_port()
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                [QIANGJI, "dev", "--home", str(home), "--port", str(self.port)],
                cwd=ROOT,
                # landing files are taken as soon as they are seen (no quiet period)
                env=cli_env(QIANGJI_LANDING_QUIET_SECONDS="0"),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # webserver, daemon, code server and run workers: one group
            )

    def wait(self, what: str, seconds: float, probe: Callable[[], T | None], every: float = 1.0) -> T:
        deadline = time.monotonic() + seconds
        while True:
            assert self.proc.poll() is None, f"qiangji dev exited:\n{self.tail()}"
            try:
                value = probe()
            except OSError:  # the UI not listening yet
                value = None
            if value:
                return value
            assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s\n{self.tail()}"
            time.sleep(every)

    def kill_all(self) -> None:
        """SIGKILL to every process of its session at once (all ours: it started them); returns
        when none is left but zombies."""
        for pid in self._session():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while alive := [pid for pid in self._session() if _state(pid) not in "ZX"]:
            assert time.monotonic() < deadline, f"still alive after SIGKILL: {alive}"
            time.sleep(0.1)

    def _session(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getsid(int(entry.name)) == self.proc.pid:
                        pids.append(int(entry.name))
                except ProcessLookupError:
                    pass
        return pids

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def ui_up(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{self.port}/server_info", timeout=2) as response:
            return response.status == 200


def _runs_of(instance: dg.DagsterInstance, file_name: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(job_name=INGEST_SUBMISSIONS, tags={FILE_TAG: file_name})))


def _slot_holders(instance: dg.DagsterInstance) -> dict[str, str]:
    """run id -> step key of every claimed slot of the warehouse pool."""
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return {slot.run_id: slot.step_key for slot in info.claimed_slots}


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's worker, from the engine event the worker logs when it starts."""
    for event in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if event.message.startswith("Started process for run"):
            return int(event.dagster_event.engine_event_data.metadata["pid"].value)
    return None


def _state(pid: int) -> str:
    """The process's state letter (Z: a zombie, dead with its exit status not yet collected)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "X"


def _two_workbooks(tmp_path: Path) -> tuple[Path, Path]:
    generated = tmp_path / "generated"
    generate_submissions(generated, PERIOD, PERIOD, scale=0.002, seed=11)
    first, second = sorted(generated.glob(f"*_{PERIOD}.xlsx"))[:2]
    return first, second


def _wait_for_the_slot_holder(
    dev: DevServer, instance: dg.DagsterInstance, file_name: str
) -> tuple[str, int]:
    """The run of `file_name` once its `submission` step holds the warehouse slot, and its worker's pid."""

    def holds_the_slot() -> tuple[str, int] | None:
        holders = _slot_holders(instance)
        for run in _runs_of(instance, file_name):
            assert not run.is_finished, f"the run ended before it could be killed: {run.status}"
            if holders.get(run.run_id) == "submission":
                pid = _worker_pid(instance, run.run_id)
                return (run.run_id, pid) if pid else None
        return None

    run_id, pid = dev.wait("the first file's run holding the slot", 240, holds_the_slot, 0.05)
    assert os.getsid(pid) == dev.proc.pid, "not a run worker of this drill's `qiangji dev`"
    return run_id, pid


def _step_start(instance: dg.DagsterInstance, run_id: str, step_key: str) -> float:
    [start] = [
        e.timestamp
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
        if e.step_key == step_key
    ]
    return start


@pytest.mark.slow
def test_crash_daemon_run_killed_with_sigkill_frees_its_slot_for_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    first, second = _two_workbooks(tmp_path)
    home = tmp_path / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    shutil.copyfile(first, landing / first.name)  # there before the daemon's first tick

    began = time.monotonic()
    timings: dict[str, float] = {}
    dev = DevServer(home, tmp_path / "dev.log")
    try:
        dev.wait("the UI", 180, dev.ui_up, every=0.5)
        timings["ui up"] = time.monotonic() - began
        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))  # what `qiangji dev` runs on
        with dg.DagsterInstance.get() as instance:
            settings = instance.run_monitoring_settings
            grace = settings["free_slots_after_run_end_seconds"]
            poll = settings["poll_interval_seconds"]
            assert instance.run_monitoring_enabled and "MONITORING" in instance.get_required_daemon_types()

            # 1. the landing sensor's run of the first file, killed while its step holds the slot
            victim, pid = _wait_for_the_slot_holder(dev, instance, first.name)
            os.kill(pid, signal.SIGKILL)
            killed_at = time.time()
            timings["killed"] = time.monotonic() - began
            # the gap: the worker is gone and nothing of it gave the slot back
            assert _slot_holders(instance).get(victim) == "submission", "the step ended before the kill"
            shutil.copyfile(second, landing / second.name)  # the next run: it needs the slot too

            # 2. the code server sees its child gone and marks the run failed; the slot stays taken
            record = dev.wait(
                "the killed run marked failed",
                60,
                lambda: (r := instance.get_run_record_by_id(victim)) and r.dagster_run.is_finished and r,
                0.2,
            )
            timings["marked failed"] = time.monotonic() - began
            assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
            engine = [e.message for e in instance.all_logs(victim, of_type=dg.DagsterEventType.ENGINE_EVENT)]
            assert any("was terminated by signal 9 (SIGKILL)" in m for m in engine), engine
            assert victim in _slot_holders(instance), "freed at once: not the gap this drill is about"

            # 3. run monitoring frees it `grace` seconds after the run's end, at its next poll
            dev.wait(
                "the killed run's slot freed",
                grace + poll + 60,
                lambda: victim not in _slot_holders(instance),
                0.2,
            )
            freed_at = time.time()
            timings["slot freed"] = time.monotonic() - began
            # its queue entry too: Dagster frees the slot, then the run's pending entries, in two writes
            dev.wait(
                "the killed run's queue entry freed",
                15,
                lambda: victim not in instance.event_log_storage.get_concurrency_run_ids(),
                0.2,
            )
            after_end = freed_at - record.end_time
            assert grace - 1 <= after_end <= grace + poll + 15, f"freed {after_end:.1f} s after the run's end"

            # 4. the second file's run got the slot and succeeded
            def next_run_done() -> dg.DagsterRun | None:
                runs = _runs_of(instance, second.name)
                assert all(r.status != dg.DagsterRunStatus.FAILURE for r in runs), runs
                return next((r for r in runs if r.is_success), None)

            after = dev.wait("the second file's run", 240, next_run_done)
            timings["next run succeeded"] = time.monotonic() - began
            assert _step_start(instance, after.run_id, "submission") >= record.end_time + grace - 1
            assert killed_at < record.end_time
    finally:
        stop_process_group(dev.proc)
    print(
        "daemon drill timings (s since `qiangji dev` started):", {k: round(v, 1) for k, v in timings.items()}
    )

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("SELECT file_name, status FROM raw.submissions").fetchall())
    assert statuses.get(second.name) == "accepted", statuses


@pytest.mark.slow
def test_crash_dev_killed_as_a_whole_mid_run_the_next_qiangji_run_fails_the_run_and_frees_its_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    first, _ = _two_workbooks(tmp_path)
    home = tmp_path / "home"
    (home / "landing").mkdir(parents=True)
    shutil.copyfile(first, home / "landing" / first.name)
    dev = DevServer(home, tmp_path / "dev.log")
    try:
        dev.wait("the UI", 180, dev.ui_up, every=0.5)
        monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
        with dg.DagsterInstance.get() as instance:
            victim, pid = _wait_for_the_slot_holder(dev, instance, first.name)
            dev.kill_all()  # webserver, daemon, code server and the run worker, at once
            assert not Path(f"/proc/{pid}").exists() or _state(pid) in "ZX"  # gone, or a zombie
            # nothing was left to see the worker die: the run still goes, and holds the slot
            assert instance.get_run_by_id(victim).status == dg.DagsterRunStatus.STARTED
            assert _slot_holders(instance).get(victim) == "submission"

            assert fail_abandoned_runs(instance) == [victim]  # what every `qiangji run` does first
            assert instance.get_run_by_id(victim).status == dg.DagsterRunStatus.FAILURE
            assert not _slot_holders(instance)
            storage = instance.event_log_storage
            assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "the-next-run", "submission").is_claimed
            assert fail_abandoned_runs(instance) == []  # once
    finally:
        if dev.proc.poll() is None:
            stop_process_group(dev.proc)


def test_recovery_frees_the_slot_an_ended_run_still_holds_as_the_daemon_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Without a daemon (`qiangji dev` stopped), `qiangji run` frees the slot of a run that ended
    (a launched run whose worker was killed: marked failed by the code server, its slot kept) once
    `free_slots_after_run_end_seconds` passed, waiting out the rest; an unended run's slot stays."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    grace = config["run_monitoring"]["free_slots_after_run_end_seconds"] = 3  # the repo's, shortened
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))

    @dg.asset(pool=WAREHOUSE_POOL)
    def writer() -> None:
        pass

    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(WAREHOUSE_POOL, 2)
        ended = dg.materialize([writer], instance=instance).run_id
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, ended, "writer").is_claimed  # left over
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "a-run-going", "writer").is_claimed
        end_time = instance.get_run_record_by_id(ended).end_time
        if time.time() < end_time + grace - 0.5:
            assert free_ended_runs_slots(instance, wait=False) == []  # not within the grace period
        assert free_ended_runs_slots(instance) == [ended]  # waits out the rest of it
        assert time.time() >= end_time + grace
        assert set(_slot_holders(instance)) == {"a-run-going"}
        assert free_ended_runs_slots(instance) == []
