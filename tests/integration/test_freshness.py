"""The published tables' freshness policy, as Dagster evaluates it: the daemon's freshness loop (what
`qiangji dev` runs) records each table's state; the UI reads it through GraphQL (`freshnessStatusInfo`).

A night that did not publish makes every published table FAIL after 04:00 Asia/Shanghai, even when
a refresh published during the day before; the night's publication makes it pass again.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.freshness import FreshnessDaemon
from dagster_graphql.test.utils import execute_dagster_graphql

from orchestration.project import QUIET_TELEMETRY, prepare_dbt
from tests.support.cli import ROOT, TEST_KEY

SHANGHAI = ZoneInfo("Asia/Shanghai")
ATTAINMENT = dg.AssetKey(["published", "mart_target_attainment"])
QUERY = """
query ($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    freshnessStatusInfo { freshnessStatus }
    internalFreshnessPolicy { ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds timezone } }
  }
}
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dagster").mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster" / "dagster.yaml")
    for name, value in {
        **QUIET_TELEMETRY,
        "QIANGJI_HOME": str(tmp_path),
        "QIANGJI_LANDING": str(tmp_path / "landing"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "QIANGJI_PSEUDONYM_KEY": TEST_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    prepare_dbt()
    return tmp_path


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=SHANGHAI)


def test_the_instance_evaluates_freshness():
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["freshness"] == {"enabled": True}


def test_a_night_that_did_not_publish_makes_the_published_tables_fail(home: Path):
    from orchestration.defs.publish import NIGHTLY_DEADLINE, PUBLISHED_KEYS

    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions", working_directory=str(ROOT))
    )
    with (
        dg.DagsterInstance.get() as instance,
        WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as workspace,
    ):
        assert instance.freshness_enabled  # the daemon runs the freshness loop (`qiangji dev`)
        assert "FRESHNESS_DAEMON" in instance.get_required_daemon_types()

        def publish(at: dt.datetime) -> None:
            with freeze_time(at):
                for key in PUBLISHED_KEYS.values():
                    instance.report_runless_asset_event(dg.AssetMaterialization(key))

        def evaluate(at: dt.datetime) -> dict[dg.AssetKey, FreshnessState]:
            with freeze_time(at):
                list(FreshnessDaemon().run_iteration(workspace))
            records = instance.get_freshness_state_records(list(PUBLISHED_KEYS.values()))
            return {key: records[key].freshness_state for key in PUBLISHED_KEYS.values()}

        def shown(at: dt.datetime) -> dict:
            with freeze_time(at):
                result = execute_dagster_graphql(
                    workspace.create_request_context(), QUERY, {"keys": [{"path": ATTAINMENT.path}]}
                )
            assert not result.errors, result.errors
            [node] = result.data["assetNodes"]
            return node

        publish(_at(1, 3))  # the night of the 1st published at 03:00
        assert set(evaluate(_at(1, 5)).values()) == {FreshnessState.PASS}
        publish(_at(1, 15))  # a refresh after new submissions in the afternoon
        assert set(evaluate(_at(1, 23)).values()) == {FreshnessState.PASS}
        # the night of the 2nd did not publish: after its 04:00 deadline every published table fails
        assert set(evaluate(_at(2, 5)).values()) == {FreshnessState.FAIL}
        node = shown(_at(2, 5))
        assert node["freshnessStatusInfo"]["freshnessStatus"] == "DEGRADED"
        assert node["internalFreshnessPolicy"] == {
            "deadlineCron": NIGHTLY_DEADLINE.deadline_cron,
            "lowerBoundDeltaSeconds": 2 * 3600,
            "timezone": "Asia/Shanghai",
        }
        assert NIGHTLY_DEADLINE.deadline_cron == "0 4 * * *"
        publish(_at(3, 2) + dt.timedelta(minutes=40))  # the next night publishes at 02:40
        assert set(evaluate(_at(3, 4) + dt.timedelta(minutes=1)).values()) == {FreshnessState.PASS}
        assert shown(_at(3, 5))["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY"
