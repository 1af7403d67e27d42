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

It also stores events at less cost (docs/performance.md, "The fixed cost of a run"): Dagster's
SQLite event log creates a new SQLAlchemy engine for every stored event (and a second one for the
index shard of an asset or check event) and syncs the disk on every commit; a small `qiangji run`
stores ≈ 1,100 events, ≈ 730 of them twice, which cost 20–29 s of its 60–95 s. Here one engine
per shard is kept (connections are still opened per transaction: NullPool, as Dagster's) and the
WAL journal Dagster sets up is synced at checkpoints, not on every commit (`synchronous=NORMAL`,
SQLite's advice for WAL): the history stays consistent after any crash; a power cut may lose the
last events of a run, which then looks unfinished and is failed by the next run's recovery.

3. `QiangjiDbtCliResource` (after 2., `latest_check_evaluation`) — dagster-dbt's `DbtCliResource`
without two start-up costs of every build that this project never uses (≈ 4–8 s of a run): the dbt
executable's version is read from the installed dbt-core package instead of a `dbt --version`
subprocess (the executable is the venv's own, `orchestration.project.dbt_executable`), and no dbt
adapter is made inside Dagster's process (it serves only
`fetch_row_counts()`/`fetch_column_metadata()`, which the project does not use:
orchestration/defs/transform.py says why).
"""

import fcntl
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Any

import dagster as dg
import sqlalchemy as db
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster_dbt import DbtCliResource
from packaging.version import Version
from sqlalchemy.pool import QueuePool


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


# Engines kept at once (one per run shard touched, and the index): `dagster dev` reads many runs.
ENGINES_KEPT = 16


def _sync_at_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PoolSafeSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log storage; the pool-slot operations serialized across processes,
    one engine kept per shard and commits not synced one by one (the module's docstring)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)
        self._pool_lock = _ProcessLock(os.path.join(self._base_dir, "concurrency.lock"))

    def _engine(self, shard: str) -> db.engine.Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            db.event.listen(engine, "connect", _sync_at_checkpoints)
            self._engines[shard] = engine
            while len(self._engines) > ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        # Dagster's _connect, with the shard's engine kept (NullPool: a connection per transaction)
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()

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


# 3. dagster-dbt's resource without the start-up costs this project does not use.


class QiangjiDbtCliResource(DbtCliResource):
    """`DbtCliResource` without a `dbt --version` subprocess and without a dbt adapter in Dagster's
    process (the module's docstring); what runs is the same `dbt build`."""

    @cached_property
    def _cli_version(self) -> Version:
        # the executable is the venv's dbt (orchestration.project.dbt_executable): its dbt-core
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        # only dagster-dbt's fetch_row_counts()/fetch_column_metadata() use it (not used here); an
        # invocation without an adapter is dagster-dbt's own case for dbt's Fusion engine
        return None
