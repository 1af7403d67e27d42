"""Automation: a sensor on the landing folder, a rebuild after new submissions, a nightly rebuild.

The sensor requests one ingest run per new or changed file, keyed by the file's SHA-256, so the
same bytes never trigger twice: the cursor keeps every hash it has requested, and bytes already in
the archive (received by `qiangji run`, a backfill or an earlier run) are not new either. The
sensor only reads the landing folder and the archive, never the warehouse (DuckDB admits one
writing process, and the sensor runs in the daemon).

When submissions were loaded after the marts were last published, `refresh_after_ingest`
requests one refresh of everything downstream of the raw tables (`refresh_after_submissions`:
the facts incrementally, not the seeds), once no run loading submissions is still queued or
going: five files dropped together give five ingest runs and one refresh, not five. A file
dropped into the landing folder so reaches the published marts a minute or two after its
ingest, without waiting for the night. While the seeds and their dimensions were never built, or
were built from other code than the deployed one, it requests the full rebuild instead.

The nightly schedule rebuilds what the submissions feed — raw audit, dbt build (models, tests as
asset checks), quality checks, publish — in one run, behind the same pool as every other writer.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ingest.load import sha256_of
from ingest.pipeline import is_archived, list_landing, partition_key
from orchestration.defs.ingest import SUBMISSION, SUBMISSIONS
from orchestration.defs.jobs import (
    LOADING_JOBS,
    REFRESH_SELECTION,
    ingest_job,
    nightly_rebuild_job,
    refresh_job,
)
from orchestration.resources import QiangjiHome

SENSOR_INTERVAL_SECONDS = 30


@dataclass
class LandingCursor:
    """What the sensor has seen: every requested SHA-256, and the last hash of each landing file by
    (size, mtime) so that a file that did not change is not read again."""

    seen: set[str] = field(default_factory=set)
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (stat signature, sha256)

    @classmethod
    def load(cls, text: str | None) -> "LandingCursor":
        if not text:
            return cls()
        data = json.loads(text)
        return cls(set(data.get("seen", [])), {k: tuple(v) for k, v in data.get("files", {}).items()})

    def dump(self) -> str:
        return json.dumps({"seen": sorted(self.seen), "files": self.files}, separators=(",", ":"))


def _signature(path: Path) -> str:
    """Size and modification time (of each file, for a folder of CSVs): cheap, changes with the bytes."""
    if path.is_dir():
        parts = [
            (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.iterdir()) if p.is_file()
        ]
        return json.dumps(parts)
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A run of `submission` for each new or changed landing file (by SHA-256).",
)
def landing_sensor(context: dg.SensorEvaluationContext, qiangji: QiangjiHome) -> dg.SensorResult:
    landing = qiangji.layout.landing
    cursor = LandingCursor.load(context.cursor)
    if not landing.is_dir():
        return dg.SensorResult(skip_reason=f"no landing folder at {landing}", cursor=cursor.dump())
    known_keys = set(context.instance.get_dynamic_partitions(SUBMISSIONS.name))
    new_keys: list[str] = []
    requests: list[dg.RunRequest] = []
    files: dict[str, tuple[str, str]] = {}
    for path in list_landing(landing):
        try:
            signature = _signature(path)
            cached = cursor.files.get(path.name)
            sha = cached[1] if cached and cached[0] == signature else sha256_of(path)
        except OSError:  # moved or removed while we looked: the next tick sees what is there
            continue
        files[path.name] = (signature, sha)
        if sha in cursor.seen or is_archived(qiangji.layout.archive, sha):
            cursor.seen.add(sha)
            continue
        key = partition_key(path)
        if key not in known_keys and key not in new_keys:
            new_keys.append(key)
        requests.append(
            dg.RunRequest(
                run_key=sha,
                partition_key=key,
                tags={"qiangji/file": path.name, "qiangji/sha256": sha},
            )
        )
        cursor.seen.add(sha)
    cursor.files = files
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[SUBMISSIONS.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor.dump(),
        skip_reason=None if requests else "no new or changed file",
    )


RUN_GOING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
PUBLISHED = dg.AssetKey("published_marts")


def _loads_submissions(run: dg.DagsterRun) -> bool:
    """Runs of the ingest job, of `qiangji run`'s jobs, or launched on `submission` from the asset graph."""
    return run.job_name in LOADING_JOBS or SUBMISSION in (run.asset_selection or ())


def stale_for_refresh(instance: dg.DagsterInstance, repository: dg.RepositoryDefinition) -> list[dg.AssetKey]:
    """What a refresh relies on but does not build — the seeds and the dimensions made of them —
    that was never built, or built from other code (a seed or model changed since): then only a
    full rebuild gives the right marts."""
    graph = repository.asset_graph
    needed = sorted((nightly_rebuild_job.selection - REFRESH_SELECTION).resolve(graph))
    built = instance.get_latest_materialization_code_versions(needed)  # None: never built
    return [key for key in needed if built[key] is None or built[key] != graph.get(key).code_version]


@dg.sensor(
    jobs=[refresh_job, nightly_rebuild_job],
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One refresh of the warehouse and the published marts after new submissions were "
    "loaded (a full rebuild while the seeds were never built, or changed since they were).",
)
def refresh_after_ingest(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    instance = context.instance
    loaded = instance.fetch_materializations(SUBMISSION, limit=1).records
    if not loaded:
        return dg.SensorResult(skip_reason="no submission loaded yet")
    newest = loaded[0].storage_id
    published = instance.fetch_materializations(PUBLISHED, limit=1).records
    if published and published[0].storage_id > newest:
        return dg.SensorResult(skip_reason="the marts were published after the newest submission")
    if context.cursor and int(context.cursor) >= newest:
        # Requested already; if that rebuild failed, its failure is in the UI and the night retries.
        return dg.SensorResult(skip_reason="a rebuild was requested after the newest submission")
    going = instance.get_runs(filters=dg.RunsFilter(statuses=RUN_GOING))
    if any(_loads_submissions(run) for run in going):
        return dg.SensorResult(
            skip_reason="submissions are still loading: one rebuild after the last of them"
        )
    job = nightly_rebuild_job if stale_for_refresh(instance, context.repository_def) else refresh_job
    tags = {"qiangji/after": "new submissions"}
    request = dg.RunRequest(run_key=f"after-{newest}", job_name=job.name, tags=tags)
    return dg.SensorResult(run_requests=[request], cursor=str(newest))


nightly_rebuild = dg.ScheduleDefinition(
    name=nightly_rebuild_job.name,
    job=nightly_rebuild_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night: rebuild the warehouse from the raw tables and publish the marts.",
)

defs = dg.Definitions(sensors=[landing_sensor, refresh_after_ingest], schedules=[nightly_rebuild])
