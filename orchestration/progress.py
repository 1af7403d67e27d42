"""Progress of a run, read from its own events while it runs: the bar `qiangji run` shows.

The run executes in the main thread (`execute_in_process`); a watcher thread reads the run's
new event records from the instance every half second and folds them into `RunProgress`. Work is
counted in files (the submission step logs one debug line per file), dbt nodes (one
materialization each) and the remaining steps (one unit each).
"""

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from orchestration.defs.ingest import FILE_DONE, SUBMISSION

STEP_LABELS = {
    "submission": "loading submissions",
    "raw_tables": "checking raw tables",
    "warehouse_models": "dbt build",
    "great_expectations_suites": "quality checks",
    "published_marts": "publishing",
    "attainment_dashboard": "dashboard",
    "dbt_docs_site": "docs site",
    "gap_workbooks": "gap lists",
}
_FILE_DONE = re.compile(
    "^" + re.escape(FILE_DONE).replace(r"\{done\}", r"(\d+)").replace(r"\{total\}", r"(\d+)")
)


@dataclass
class RunProgress:
    files_total: int
    models_total: int
    other_steps: int
    files_done: int = 0
    models_done: int = 0
    steps_done: set[str] = field(default_factory=set)
    stage: str = "starting"

    @property
    def total(self) -> int:
        return self.files_total + self.models_total + self.other_steps

    @property
    def completed(self) -> int:
        others = len(self.steps_done - {"submission", "warehouse_models"})
        return min(self.total, self.files_done + self.models_done + others)

    @property
    def description(self) -> str:
        if self.stage == STEP_LABELS["submission"]:
            return f"{self.stage} {self.files_done}/{self.files_total}"
        if self.stage == STEP_LABELS["warehouse_models"]:
            return f"{self.stage} {self.models_done}/{self.models_total}"
        return self.stage

    def apply(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            matched = _FILE_DONE.match(entry.user_message or "")
            if matched:
                self.files_done = max(self.files_done, int(matched.group(1)))
            return
        step = entry.step_key or ""
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.stage = STEP_LABELS.get(step, step)
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            self.steps_done.add(step)
            if step == "submission":
                self.files_done = self.files_total
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            if step == "warehouse_models":
                self.models_done += 1
            elif event.asset_key == SUBMISSION:
                self.files_done = self.files_total


class RunWatcher:
    """Reads a run's events in a thread and calls `on_change(progress)` after each batch."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        run_id: str,
        progress: RunProgress,
        on_change: Callable[[RunProgress], None],
        interval: float = 0.5,
    ):
        self._instance, self._run_id, self.progress = instance, run_id, progress
        self._on_change, self._interval = on_change, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="qiangji-progress", daemon=True)
        self._cursor: str | None = None

    def __enter__(self) -> "RunWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll()  # the last events

    def poll(self) -> None:
        try:
            while True:
                batch = self._instance.get_records_for_run(self._run_id, cursor=self._cursor, limit=1000)
                for record in batch.records:
                    self.progress.apply(record.event_log_entry)
                self._cursor = batch.cursor
                if not batch.has_more:
                    break
        except Exception:  # the run not stored yet, storage busy: a progress bar never fails a run
            return
        self._on_change(self.progress)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.poll()
