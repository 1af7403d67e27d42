"""What orchestration/internals.py relies on in Dagster's private APIs, pinned against a real instance.

An upgrade of Dagster that moves or changes them fails here, by name, before a drill or a publish
fails somewhere downstream.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import EmptyWorkspaceTarget
from dagster._daemon.monitoring import execute_concurrency_slots_iteration

from orchestration.internals import PoolSafeSqliteEventLogStorage, latest_check_evaluation
from orchestration.resources import WAREHOUSE_POOL
from tests.support.cli import ROOT


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An instance made from the repo's dagster.yaml in a temporary Dagster home."""
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_the_instance_uses_the_pool_safe_storage_and_a_pool_of_one_admits_one_step(instance):
    storage = instance.event_log_storage
    assert isinstance(storage, PoolSafeSqliteEventLogStorage)
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    first = storage.claim_concurrency_slot(WAREHOUSE_POOL, "run-a", "step")
    second = storage.claim_concurrency_slot(WAREHOUSE_POOL, "run-b", "step")
    assert first.is_claimed and not second.is_claimed
    storage.free_concurrency_slots_for_run("run-a")
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "run-b", "step").is_claimed


def test_the_daemons_run_monitoring_frees_an_ended_runs_slot_in_this_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """What `qiangji dev` relies on when a run worker is killed: the monitoring daemon's slot loop
    (dagster.yaml `run_monitoring`) frees, through this storage, the slot an ended run still holds,
    once `free_slots_after_run_end_seconds` passed; the next step then gets it."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] and monitoring["free_slots_after_run_end_seconds"] > 0
    assert monitoring.get("max_resume_run_attempts", 0) == 0  # the default run launcher cannot resume
    grace = monitoring["free_slots_after_run_end_seconds"] = 3  # the repo's, shortened for the test
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))

    @dg.asset(pool=WAREHOUSE_POOL)
    def writer() -> None:
        pass

    with dg.DagsterInstance.get() as instance:
        assert "MONITORING" in instance.get_required_daemon_types()
        storage = instance.event_log_storage
        assert isinstance(storage, PoolSafeSqliteEventLogStorage)
        ended = dg.materialize([writer], instance=instance).run_id
        # a worker killed in its step leaves its slot claimed after its run was marked ended
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, ended, "writer").is_claimed
        assert not storage.claim_concurrency_slot(WAREHOUSE_POOL, "next-run", "writer").is_claimed
        end_time = instance.get_run_record_by_id(ended).end_time
        with WorkspaceProcessContext(instance, EmptyWorkspaceTarget()) as daemon:
            list(execute_concurrency_slots_iteration(daemon, logging.getLogger("monitoring")))
            if time.time() < end_time + grace - 0.5:
                assert ended in storage.get_concurrency_run_ids()  # not before the grace period
            time.sleep(max(0.0, end_time + grace + 0.5 - time.time()))
            list(execute_concurrency_slots_iteration(daemon, logging.getLogger("monitoring")))
        assert ended not in storage.get_concurrency_run_ids()
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, "next-run", "writer").is_claimed


def test_latest_check_evaluation_is_the_last_evaluated_with_its_status(instance):
    outcomes = iter([True, False])

    @dg.asset(check_specs=[dg.AssetCheckSpec("ok", asset="thing", blocking=True)])
    def thing():
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(check_name="ok", passed=next(outcomes))

    key = dg.AssetCheckKey(dg.AssetKey("thing"), "ok")
    assert latest_check_evaluation(instance, key) is None
    assert dg.materialize([thing], instance=instance).success
    time.sleep(0.01)  # two evaluations never share a timestamp
    assert dg.materialize([thing], instance=instance, raise_on_error=False) is not None
    latest = latest_check_evaluation(instance, key)
    assert latest is not None and latest.status.value == "FAILED"
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    assert latest.event.timestamp == max(r.event.timestamp for r in history if r.event)
    # the severity publish reads from a failed check's evaluation
    evaluation = latest.event.dagster_event.event_specific_data
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR


def test_the_event_log_keeps_an_engine_per_shard_and_syncs_at_checkpoints(instance):
    """Events of a run stored through this storage: one engine per shard however many events, WAL
    synced at checkpoints (synchronous=NORMAL), and the shard still Dagster's own (a plain
    SqliteEventLogStorage on the same folder reads every event back)."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    @dg.asset
    def one() -> int:
        return 1

    @dg.asset
    def two(one: int) -> int:
        return one + 1

    result = dg.materialize([one, two], instance=instance)
    assert result.success
    storage = instance.event_log_storage
    run_id = result.run_id
    assert set(storage._engines) == {run_id, "index"}
    with storage.run_connection(run_id) as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    stored = storage.get_logs_for_run(run_id)
    plain = SqliteEventLogStorage(storage._base_dir)
    assert [e.dagster_event_type for e in plain.get_logs_for_run(run_id)] == [
        e.dagster_event_type for e in stored
    ]
    assert plain.get_latest_materialization_events([dg.AssetKey("two")])[dg.AssetKey("two")] is not None


def test_engines_kept_are_bounded(instance):
    from orchestration.internals import ENGINES_KEPT

    storage = instance.event_log_storage
    for i in range(ENGINES_KEPT + 3):
        with storage.run_connection(f"run-{i}") as conn:
            conn.exec_driver_sql("SELECT 1")
    assert len(storage._engines) == ENGINES_KEPT
    assert "run-0" not in storage._engines and f"run-{ENGINES_KEPT + 2}" in storage._engines


def test_the_dbt_resource_knows_dbts_version_without_running_it_and_makes_no_adapter():
    """The version it assumes is what the venv's dbt says it is (here, once, through `dbt --version`)."""
    import re
    import subprocess

    from orchestration.internals import QiangjiDbtCliResource
    from orchestration.project import dbt_cli_resource, dbt_executable

    resource = dbt_cli_resource()
    assert isinstance(resource, QiangjiDbtCliResource)
    said = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    assert str(resource._cli_version) == re.search(r"(\d+\.\d+\.\d+)", said).group(1)
    assert resource._initialize_dbt_core_adapter(["build"]) is None
