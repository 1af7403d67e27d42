"""What `qiangji run` executes: the environment of a run, the job it picks, one run in-process.

The environment is decided when a command starts (never at import) and handed on through
environment variables, so the in-process run, `dagster dev` and the dbt subprocess all see the
same paths.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ingest.landing import wait_until_quiet
from ingest.pipeline import landing_partitions, shown_landing_name
from ingest.settings import IngestSettings
from orchestration.defs.ingest import STATUSES as SUBMISSION_STATUSES
from orchestration.defs.ingest import all_partitions_tags, register_landing
from orchestration.defs.jobs import LOAD_AND_REFRESH, NIGHTLY_REBUILD, PIPELINE
from orchestration.progress import STEP_LABELS, RunProgress, RunWatcher
from orchestration.project import FULL_REFRESH_TAG, QUIET_TELEMETRY, prepare_dbt
from orchestration.recovery import fail_abandoned_runs, launcher_tags
from warehouse.files import copy_into_place
from warehouse.layout import HomeLayout
from warehouse.publish import PublishedMode, apply_published_mode
from warehouse.reference import project_root

# The process's umask from `configure` on: what DuckDB, Dagster, dbt and GX create is their owner's only.
PRIVATE_UMASK = 0o077


def configure(layout: HomeLayout, demo: bool = False) -> dict[str, str]:
    """Set the variables of a run with data in `layout`'s home; return what was set.

    Also makes the process's files owner-only from now on (umask 077, inherited by dbt and by the
    processes `dagster dev` starts) and the home's folders owner-only (HomeLayout.make_private); only
    published/ gets the mode QIANGJI_PUBLISHED_MODE says (raises PublishedModeError if it is not one).
    """
    published_mode = PublishedMode.from_env()
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or layout.dagster_home).resolve()
    # before the umask: missing parents of the home get the account's usual modes (BI readers
    # pass through them to published/), the home's own folders their modes explicitly
    layout.make_private(dagster_home, published_mode.folders)
    os.umask(PRIVATE_UMASK)
    _install(project_root() / "dagster.yaml", dagster_home / "dagster.yaml")
    values = {
        **QUIET_TELEMETRY,
        "QIANGJI_HOME": str(layout.home),
        "QIANGJI_LANDING": str(layout.landing),
        "QIANGJI_WAREHOUSE": str(layout.warehouse),
        # the Spark target's raw tables (`qiangji export-raw`); a cluster's location is kept
        "QIANGJI_RAW_PARQUET": os.environ.get("QIANGJI_RAW_PARQUET") or str(layout.raw_parquet),
        "QIANGJI_DEMO": "1" if demo else "0",
        "DAGSTER_HOME": str(dagster_home),
    }
    os.environ.update(values)
    return values


def _install(source: Path, target: Path) -> None:
    """Copy aside and rename into place: a run starting meanwhile never reads half a file."""
    if target.exists() and target.read_bytes() == source.read_bytes():
        return
    copy_into_place(source, target)


@contextlib.contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """The instance in $DAGSTER_HOME, created under a file lock: two commands starting together on a
    new home would otherwise both create its sqlite tables, and one of them fail."""
    with open(Path(os.environ["DAGSTER_HOME"]) / ".instance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
    with instance:
        yield instance


@dataclass
class RunOutcome:
    """How a `qiangji run` ended."""

    run_id: str
    job_name: str
    success: bool
    failed_steps: list[str] = field(default_factory=list)
    published: bool = False
    abandoned_runs: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # landing entries still being written: not taken
    # this run's files by status ("received": all of them; accepted, rejected, superseded, unchanged,
    # pending: the submission step's metadata) and its quarantined rows; empty when nothing was loaded
    files: dict[str, int] = field(default_factory=dict)
    quarantined_rows: int = 0
    checks_failed: list[FailedCheck] = field(default_factory=list)


@dataclass(frozen=True)
class FailedCheck:
    """An asset check of the run that did not pass: a warning (WARN) or blocking (ERROR)."""

    asset: str  # the asset key's path, "/"-joined
    check: str
    severity: str


def choose_job(
    instance: dg.DagsterInstance, defs: dg.Definitions, keys: list[str], full_rebuild: bool
) -> str:
    """The job of a run: everything after ingest without submissions; the whole pipeline the first
    time, when the seeds or their code changed, or on request; else the load and the refresh."""
    from orchestration.defs.automation import stale_for_refresh

    if not keys:
        return NIGHTLY_REBUILD
    if full_rebuild or stale_for_refresh(instance, defs.get_repository_def()):
        return PIPELINE
    return LOAD_AND_REFRESH


def run_pipeline(
    layout: HomeLayout,
    *,
    full_rebuild: bool = False,
    show_progress: Callable[[RunProgress], None] | None = None,
    log_level: str | None = None,
) -> RunOutcome:
    """Load every submission in the landing folder, build, check and publish, as one run in-process.

    `configure` must have run. With `show_progress`, the run's progress is read from its events
    while it runs (Dagster logs only warnings then); without, Dagster's INFO lines say the same.
    `log_level` (DEBUG, INFO, WARNING, ERROR) overrides that level of Dagster's console lines.
    dbt's own output goes to `<home>/logs/dbt.log`.
    """
    prepare_dbt()
    from orchestration.definitions import defs

    layout.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
    with dagster_instance() as instance, open(layout.logs / "dbt.log", "a") as dbt_log:
        # One run of the job the UI shows: a single-run backfill of every submission partition
        # (each (reporting unit, period) with a file in the landing folder gets its partition), then
        # dbt, the checks and publish. With no submission at all, everything after ingest.
        abandoned = fail_abandoned_runs(instance)
        # files copied a moment ago are waited for once (at most the quiet period); what still
        # changes after that is left for the next run
        quiet = IngestSettings.from_env().quiet_seconds
        scan = wait_until_quiet(layout.landing, quiet)
        keys = register_landing(instance, layout.landing, quiet)
        job = defs.resolve_job_def(choose_job(instance, defs, keys, full_rebuild))
        run_id = str(uuid.uuid4())
        watcher: contextlib.AbstractContextManager = contextlib.nullcontext()
        if show_progress is not None:
            from orchestration.defs.transform import warehouse_models

            wanted = set(keys)
            state = RunProgress(
                files_total=sum(
                    len(p) for k, p in landing_partitions(layout.landing, quiet).items() if k in wanted
                ),
                models_total=len(warehouse_models.keys & job.asset_layer.executable_asset_keys),
                other_steps=len(STEP_LABELS) - 2,
            )
            watcher = RunWatcher(instance, run_id, state, show_progress)
        # dbt's own output goes to stdout (the UI shows it as the step's compute log); here to a file.
        with contextlib.redirect_stdout(dbt_log), watcher:
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_id=run_id,
                tags={
                    **(all_partitions_tags(keys) if keys else {}),
                    **launcher_tags(),
                    **({FULL_REFRESH_TAG: "true"} if full_rebuild else {}),
                },
                run_config={
                    "loggers": {
                        "console": {
                            "config": {"log_level": log_level or ("WARNING" if show_progress else "INFO")}
                        }
                    }
                },
            )
    # What the run published has its mode already; the dashboard, written by reporting, gets it here.
    apply_published_mode(layout.published)
    return RunOutcome(
        run_id=result.run_id,
        job_name=job.name,
        success=result.success,
        failed_steps=[e.step_key for e in result.all_events if e.is_step_failure and e.step_key],
        published=any(
            e.event_type_value == "ASSET_MATERIALIZATION" and e.step_key == "published_marts"
            for e in result.all_events
        ),
        abandoned_runs=abandoned,
        waiting=[shown_landing_name(p) for p in scan.waiting],
        **_ingested(result),
        checks_failed=_failed_checks(result),
    )


def _ingested(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    """This run's files by status and quarantined rows, from the `submission` step's metadata (the
    same on each partition's materialization of the one step: read once)."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.step_key == "submission":
            meta = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
            files = {"received": int(meta.get("files", 0))}
            files |= {s: int(meta.get(s, 0)) for s in SUBMISSION_STATUSES}
            return {"files": files, "quarantined_rows": int(meta.get("quarantined_rows", 0))}
    return {}


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[FailedCheck]:
    """The run's asset checks that did not pass, once each (a check of many partitions is one)."""
    failed: dict[tuple[str, str], FailedCheck] = {}
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            asset = "/".join(evaluation.asset_key.path)
            failed[(asset, evaluation.check_name)] = FailedCheck(
                asset, evaluation.check_name, evaluation.severity.value
            )
    return sorted(failed.values(), key=lambda c: (c.asset, c.check))
