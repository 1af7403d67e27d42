"""Runs whose process died: marked failed, their warehouse pool slot given back.

A run that claimed the one slot of the pool `duckdb_warehouse` gives it back when its step ends.
Killed with SIGKILL (or by the OOM killer, or a power cut), its process never does: every later
warehouse step would wait for that slot forever. Who gives it back depends on who ran the run:

- `qiangji run` executes its run in-process, and a killed `qiangji run` never reports the run's
  end: the run stays STARTED. Each such run therefore carries the launching process (host, pid and
  the pid's start time, so that a reused pid is not mistaken for it) in its tags, and every
  `qiangji run` first fails the runs of this host whose process is gone and frees their slots.
- A run the daemon launched (`qiangji dev`) runs in a child process of the code server, which
  marks the run failed when that child dies. Its slot is freed by the daemon's run monitoring
  (`run_monitoring.free_slots_after_run_end_seconds` in dagster.yaml) that long after the run's
  end. When no daemon runs any more (`qiangji dev` stopped meanwhile), `qiangji run` applies the
  same rule to the slots still held by ended runs, waiting out the rest of that grace period.
- When the code server died too (`qiangji dev` killed as a whole, a power cut), nothing marks
  the run failed: it stays STARTED. Its worker wrote its pid when it started (Dagster's engine
  event "Started process for run (pid: N)"); `qiangji run` fails such a run when no process of
  that pid started before that event is alive. Dagster's default run launcher runs the workers on
  the host of `qiangji dev`, the host of the instance's SQLite files.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import dagster as dg

HOST_TAG = "qiangji/host"
PID_TAG = "qiangji/pid"
PID_START_TAG = "qiangji/pid_start"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED]
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
# The engine event a run worker launched by the code server logs first (dagster/_grpc/impl.py).
WORKER_STARTED = "Started process for run"
_CLOCK_SLACK_SECONDS = 2.0  # process start times from /proc are rounded to clock ticks


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the process name; None if there is no such process
    (or only its exit status is left, a zombie), [] if there is no /proc (only whether the pid
    exists is known then)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc: the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return []
    fields = stat.rsplit(")", 1)[1].split()  # the name before ")" may hold spaces
    return None if fields[0] in ("Z", "X") else fields  # field 3: the state


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None if there is no such process."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return fields[19] if fields else ""  # field 22 of stat


def _started_at(pid: int) -> float | None:
    """When the process started, in seconds since the epoch; None if there is no such process,
    0.0 if it is alive but when it started is not known (then it is taken for the one we look for)."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, StopIteration, ValueError):
        return 0.0


def launcher_tags() -> dict[str, str]:
    """Tags naming this process, for a run it executes in-process."""
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(os.getpid()),
        PID_START_TAG: _start_time(os.getpid()) or "",
    }


def _is_alive(tags: dict[str, str]) -> bool:
    started = _start_time(int(tags[PID_TAG]))
    return started is not None and (started == tags.get(PID_START_TAG) or not started)


def _worker_started(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of a launched run's worker and when it said it started; None if it never did."""
    for event in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if event.message.startswith(WORKER_STARTED) and event.dagster_event is not None:
            pid = event.dagster_event.engine_event_data.metadata.get("pid")
            if pid is not None and str(pid.value).isdigit():
                return int(pid.value), event.timestamp
    return None


def _worker_is_gone(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    worker = _worker_started(instance, run.run_id)
    if worker is None:
        return False  # not started by a worker of the code server, or not yet: not ours to judge
    pid, said_at = worker
    started = _started_at(pid)
    return started is None or started > said_at + _CLOCK_SLACK_SECONDS  # gone, or the pid reused


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose process is gone and free their pool slots: the runs
    of `qiangji run` on this host, and the launched runs whose worker died with the code server.
    Then free the slots still held by runs that ended (`free_ended_runs_slots`). Returns the runs
    marked failed."""
    abandoned = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        if PID_TAG in run.tags:
            if run.tags.get(HOST_TAG) != socket.gethostname() or _is_alive(run.tags):
                continue
            message = f"the process that ran it (pid {run.tags[PID_TAG]}) is gone: killed or crashed"
        elif run.status == dg.DagsterRunStatus.STARTED and _worker_is_gone(instance, run):
            message = "its run worker and the code server that launched it are gone: killed or crashed"
        else:
            continue
        # its slots first: whoever sees the run ended then finds them free (free_ended_runs_slots
        # would otherwise wait out the grace period for them)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        instance.report_run_failed(run, message=message)
        abandoned.append(run.run_id)
    free_ended_runs_slots(instance)
    return abandoned


def free_ended_runs_slots(instance: dg.DagsterInstance, wait: bool = True) -> list[str]:
    """Free the pool slots still held by runs that ended, as the daemon's run monitoring does
    (`free_slots_after_run_end_seconds` after the run's end), for when no daemon runs. With `wait`,
    a run that ended less than that ago is waited for (at most that long); else it is left.
    Returns the runs whose slots were freed."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    holders = storage.get_concurrency_run_ids()  # runs with a step holding or waiting for a slot
    if not holders:
        return []
    grace = float(instance.run_monitoring_settings.get("free_slots_after_run_end_seconds") or 0)
    ended = instance.get_run_records(filters=dg.RunsFilter(run_ids=sorted(holders), statuses=FINISHED))
    freed = []
    for record in sorted(ended, key=lambda r: r.end_time or 0):
        ended_at = record.end_time or record.update_timestamp.timestamp()
        remaining = ended_at + grace - time.time()
        if remaining > 0:
            if not wait:
                continue
            time.sleep(remaining)
        storage.free_concurrency_slots_for_run(record.dagster_run.run_id)
        freed.append(record.dagster_run.run_id)
    return freed
