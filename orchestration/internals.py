"""Everything of qiangji that touches Dagster's private APIs, in one module (pinned by
tests/integration/test_dagster_internals.py, so an upgrade that moves them fails there first).

1. `PoolSafeSqliteStorage` — the instance's storage: Dagster's SQLite storage, with pool slots
claimed one process at a time.

Dagster claims a pool slot with `SELECT … FOR UPDATE`, which SQLite ignores (and pysqlite runs
that SELECT outside any transaction): two processes that claim the one slot of
`duckdb_warehouse` at the same instant can both get it, and then both open the warehouse — one of
them fails on DuckDB's lock. Measured here: two processes claiming a fresh pool at once both got
the slot in 2 trials of 6, and 5 of 8 on an initialized pool. This storage is Dagster's own
(same files, same schema, same history) except that every change to the pools' slots and queue
holds an exclusive lock on `<DAGSTER_HOME>/history/runs/concurrency.lock`, so the limit holds for
`qiangji run`, the runs the daemon launches and the UI alike. `dagster.yaml` selects it.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage


class _ProcessLock:
    """An exclusive lock across processes (flock) and threads, re-entrant within a thread."""

    def __init__(self, path: str):
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth == 0:
                self._fd = os.open(self._path, os.O_CREAT | os.O_RDWR, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None


class PoolSafeSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log storage; the pool-slot operations serialized across processes."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data)
        self._pool_lock = _ProcessLock(os.path.join(self._base_dir, "concurrency.lock"))

    def claim_concurrency_slot(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().claim_concurrency_slot(*args, **kwargs)

    def free_concurrency_slot_for_step(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().free_concurrency_slot_for_step(*args, **kwargs)

    def free_concurrency_slots_for_run(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().free_concurrency_slots_for_run(*args, **kwargs)

    def assign_pending_steps(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().assign_pending_steps(*args, **kwargs)

    def initialize_concurrency_limit_to_default(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().initialize_concurrency_limit_to_default(*args, **kwargs)

    def set_concurrency_slots(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().set_concurrency_slots(*args, **kwargs)

    def delete_concurrency_limit(self, *args, **kwargs):
        with self._pool_lock.hold():
            return super().delete_concurrency_limit(*args, **kwargs)


class PoolSafeSqliteStorage(DagsterSqliteStorage):
    """`storage: sqlite` of dagster.yaml (runs, event logs, schedules under one base_dir), with the
    event log storage above. `base_dir` is the Dagster home, as for the default storage."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = PoolSafeSqliteEventLogStorage(
            os.path.join(os.path.abspath(base_dir), "history", "runs", "")
        )

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(inst_data=inst_data, **config_value)


# 2. The latest evaluation of an asset check (publish's "checked after built" rule).

EVALUATED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def latest_check_evaluation(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey
) -> AssetCheckExecutionRecord | None:
    """The check's most recent evaluation, by when it was evaluated.

    Not `get_latest_asset_check_execution_by_key`: that is the execution planned last, i.e. of the
    run that started last. Of two runs started together, the one that started last may have
    evaluated first; then each run would find a check older than the other's rebuild, and
    neither would publish (seen in tests/reliability's two-runs drill).
    """
    records = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=20, status=EVALUATED
    )
    return max((r for r in records if r.event is not None), key=lambda r: r.event.timestamp, default=None)
