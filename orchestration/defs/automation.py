"""Automation: a sensor on the landing folder, a rebuild after new submissions, a nightly rebuild.

The sensor requests one ingest run per new or changed landing entry, once it has been quiet for
`QIANGJI_LANDING_QUIET_SECONDS` (a file still being uploaded waits), keyed by its bytes and its
name, so the same file never triggers twice. Bytes whose archive receipts say they were loaded
under the unit, period and version their name says, or rejected under this very name, are not
new; bytes rejected before and sent again under a corrected name are. The sensor only reads the
landing folder and the archive, never the warehouse (DuckDB admits one writing process, and the
sensor runs in the daemon); its cursor holds only what is in the landing folder now.

When submissions were loaded after the marts were last published, `refresh_after_ingest`
requests one refresh of everything downstream of the raw tables (`refresh_after_submissions`:
the facts incrementally, not the seeds), once no run loading submissions is still queued or
going: five files dropped together give five ingest runs and one refresh, not five. A file
dropped into the landing folder so reaches the published marts a minute or two after its
ingest, without waiting for the night. While the seeds and their dimensions were never built, or
were built from other code than the deployed one, it requests the full rebuild instead.

Both are sensors, not declarative automation conditions: the idiom would let one failed partition
block every refresh and would not retry a failed full rebuild after the seeds changed
(docs/architecture.md, "Automation: why sensors"; tests/integration/test_automation_idiom.py).

The nightly schedule rebuilds what the submissions feed — raw audit, dbt build (models, tests as
asset checks), quality checks, publish — in one run, behind the same pool as every other writer.
"""

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ingest.archive import NotARegularFile, receipts_of, sha256_of
from ingest.identity import display_file_name
from ingest.landing import scan_landing
from ingest.pipeline import UNMATCHED_PARTITION, partition_key, printable_name, settled
from ingest.settings import IngestSettings
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
    """The last hash of each entry now in the landing folder, by its stat signature (size, times),
    so that an entry that did not change is not read again. Only what is in the folder now: the
    run keys (below) keep a file from being requested twice, not the cursor."""

    # name -> (stat signature, sha256, the run key last requested for it)
    files: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> "LandingCursor":
        if not text:
            return cls()
        data = json.loads(text)
        return cls({k: tuple(v) for k, v in data.get("files", {}).items()})

    def dump(self) -> str:
        return json.dumps({"files": self.files}, separators=(",", ":"))


def _signature(path: Path) -> str:
    """Size and times (of each file, for a folder of CSVs), never following a link: cheap, and
    changes with the bytes."""
    if path.is_dir():
        entries = sorted((p for p in path.iterdir() if p.is_file()), key=lambda p: p.name)
        return json.dumps([(p.name, p.lstat().st_size, p.lstat().st_mtime_ns) for p in entries])
    st = path.lstat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A run of `submission` for each new or changed landing entry (by name and SHA-256), "
    "once it has been quiet for QIANGJI_LANDING_QUIET_SECONDS.",
)
def landing_sensor(context: dg.SensorEvaluationContext, qiangji: QiangjiHome) -> dg.SensorResult:
    layout = qiangji.layout
    cursor = LandingCursor.load(context.cursor)
    if not layout.landing.is_dir():
        return dg.SensorResult(skip_reason=f"no landing folder at {layout.landing}", cursor=cursor.dump())
    scan = scan_landing(layout.landing, IngestSettings.from_env().quiet_seconds)
    known_keys = set(context.instance.get_dynamic_partitions(SUBMISSIONS.name))
    new_keys: list[str] = []
    requests: list[dg.RunRequest] = []
    files: dict[str, tuple[str, str, str]] = {}

    def request(path: Path, run_key: str, sha: str | None) -> None:
        key = partition_key(path)
        if key not in known_keys and key not in new_keys:
            new_keys.append(key)
        shown = display_file_name(printable_name(path), key != UNMATCHED_PARTITION)
        tags = {"qiangji/file": shown, **({"qiangji/sha256": sha} if sha else {})}
        requests.append(dg.RunRequest(run_key=run_key, partition_key=key, tags=tags))

    for path in scan.ready:
        try:
            signature = _signature(path)
            cached = cursor.files.get(path.name)
            sha = cached[1] if cached and cached[0] == signature else sha256_of(path)
        except (OSError, NotARegularFile):  # moved, removed or replaced while we looked: next tick
            continue
        if settled(layout.archive, path, sha):
            files[path.name] = (signature, sha, "")
            continue
        # a pending file (the server stopped it) is requested again after each attempt it made
        run_key = f"{sha}:{_name_digest(path)}:{len(receipts_of(layout.archive, sha))}"
        files[path.name] = (signature, sha, run_key)
        if cached and len(cached) > 2 and cached[2] == run_key:
            continue  # requested at an earlier tick (Dagster would skip the run key anyway)
        request(path, run_key, sha)
    for path in scan.refused:  # a link, FIFO or device: one run rejects it with its rule
        request(path, f"refused:{_name_digest(path)}", None)
    cursor.files = files
    waiting = f"; {len(scan.waiting)} still being written" if scan.waiting else ""
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[SUBMISSIONS.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor.dump(),
        skip_reason=None if requests else f"no new or changed file{waiting}",
    )


def _name_digest(path: Path) -> str:
    """A landing entry's name as a run key part: the name itself may hold an ID or a person's name."""
    return hashlib.sha256(os.fsencode(path.name)).hexdigest()[:16]


RUN_GOING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
# The published tables are published together (publish.py `published_marts`, one step); the
# attainment mart's publication stands for them all.
PUBLISHED = dg.AssetKey(["published", "mart_target_attainment"])


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
