"""Runs whose process died: marked failed, their warehouse pool slot given back.

`qiangji run` executes its run in-process. Killed with SIGKILL (or by the OOM killer, or a power
cut), it never reports the run's end: the run stays STARTED and keeps the one slot of the pool
`duckdb_warehouse` it claimed, so every later run would wait for that slot forever. Each run
therefore carries the launching process (host, pid and the pid's start time, so a reused pid is
not mistaken for it) in its tags, and every `qiangji run` first fails the runs of this host whose
process is gone and frees their slots. Runs launched by the daemon (`qiangji dev`) carry no such
tags: Dagster's run monitoring watches those.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

HOST_TAG = "qiangji/host"
PID_TAG = "qiangji/pid"
PID_START_TAG = "qiangji/pid_start"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None if there is no such process."""
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
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name before ")" may hold spaces


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


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs of this host whose process is gone; free their pool slots."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()})
    )
    abandoned = []
    for run in runs:
        if PID_TAG not in run.tags or _is_alive(run.tags):
            continue
        instance.report_run_failed(
            run, message=f"the process that ran it (pid {run.tags[PID_TAG]}) is gone: killed or crashed"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        abandoned.append(run.run_id)
    return abandoned
