"""A snapshot of the code location: every asset (with its group), check, job, sensor and schedule.

A move that drops or renames one fails here. After an intended change, rewrite the snapshot with
`QIANGJI_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/integration/test_definitions_snapshot.py`
and review its diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.project import prepare_dbt

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def definitions_summary(defs: dg.Definitions) -> dict:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    keys = sorted(graph.get_all_asset_keys())
    return {
        "assets": {k.to_user_string(): graph.get(k).group_name for k in keys},
        "checks": sorted(k.to_user_string() for k in graph.asset_check_keys),
        "jobs": {
            job.name: sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)
            for job in sorted(repo.get_all_jobs(), key=lambda j: j.name)
            if not job.name.startswith("__")
        },
        "sensors": {s.name: sorted(t.job_name for t in s.targets) for s in repo.sensor_defs},
        "schedules": {
            s.name: [s.cron_schedule, s.execution_timezone, s.job_name] for s in repo.schedule_defs
        },
    }


def test_the_code_location_matches_its_snapshot(monkeypatch):
    monkeypatch.setenv("QIANGJI_HOME", "/nonexistent/qiangji-home")
    monkeypatch.setenv("QIANGJI_LANDING", "/nonexistent/qiangji-home/landing")
    prepare_dbt()
    from orchestration.definitions import defs

    summary = definitions_summary(defs)
    if os.environ.get("QIANGJI_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(summary, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    assert summary == json.loads(SNAPSHOT.read_text())
