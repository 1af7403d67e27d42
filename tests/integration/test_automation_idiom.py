"""Why the refresh after new submissions is a sensor, not a declarative automation condition.

docs/architecture.md ("Automation: why sensors, not declarative automation") gives the reasons;
each test here is a guarantee of `refresh_after_ingest` (tests/integration/test_orchestration.py
tests the sensor keeps it) that Dagster's own conditions break, on a graph shaped as ours: a
dynamically partitioned `submission`, the raw tables as one asset below it, a seed with a code
version, a mart made of both.

If a later Dagster makes one of these pass, the sensor may give way to the idiom: the test that
turns red says which guarantee the idiom then keeps.
"""

from __future__ import annotations

import dagster as dg
import pytest

# the condition tester selects with a beta parameter of Dagster's own
pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")

SUBMISSIONS = dg.DynamicPartitionsDefinition(name="submission")
REFRESH = dg.AutomationCondition.eager()  # what Dagster proposes for "after the upstream changed"
# the nearest built-in to "the seed was built from other code than the deployed one"
SEED_CHANGED = (
    dg.AutomationCondition.code_version_changed().since_last_handled()
    | (dg.AutomationCondition.missing() & ~dg.AutomationCondition.in_progress())
    .newly_true()
    .since_last_handled()
)


def graph(seed_code_version: str) -> list[dg.AssetsDefinition]:
    @dg.asset(partitions_def=SUBMISSIONS)
    def submission() -> None: ...

    @dg.asset(deps=[submission], automation_condition=REFRESH)
    def raw() -> None: ...

    @dg.asset(code_version=seed_code_version, automation_condition=SEED_CHANGED)
    def seed() -> None: ...

    @dg.asset(deps=[raw, seed], automation_condition=REFRESH)
    def mart() -> None: ...

    return [submission, raw, seed, mart]


def loaded(instance: dg.DagsterInstance, partition: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization("submission", partition=partition))


def built(instance: dg.DagsterInstance, key: str, code_version: str | None = None) -> None:
    tags = {"dagster/code_version": code_version} if code_version else {}
    instance.report_runless_asset_event(dg.AssetMaterialization(key, tags=tags))


def test_eager_never_refreshes_while_one_partition_failed_to_load():
    """Guarantee: a failed partition does not block refreshes forever. eager() waits for every
    partition of its dependencies (`~any_deps_missing`): one file whose load failed — a partition the
    sensor added but no run ever materialized — stops every later refresh of the city."""
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("submission", ["120104|2007H1", "120105|2007H1"])
        for key in ("raw", "seed", "mart"):
            built(instance, key, "v1" if key == "seed" else None)
        assets = graph("v1")
        first = dg.evaluate_automation_conditions(defs=assets, instance=instance)
        loaded(instance, "120104|2007H1")  # 120105's run failed: its partition stays missing
        after_load = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=first.cursor)
        assert after_load.total_requested == 0  # the new submission never reaches the marts
        loaded(instance, "120104|2007H1")  # a corrected file of another district, days later
        later = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=after_load.cursor)
        assert later.total_requested == 0
        loaded(instance, "120105|2007H1")  # only once every partition loaded does eager() refresh
        unblocked = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=later.cursor)
        assert unblocked.get_num_requested(dg.AssetKey("raw")) == 1


def test_a_failed_full_rebuild_after_a_seed_changed_is_not_requested_again():
    """Guarantee: a full rebuild when the seeds or their code changed — until one succeeded. The
    nearest condition, `code_version_changed()`, compares the code with the previous evaluation, not
    with what was built: it fires once after a deployment, and when that rebuild fails, the seed is
    stale forever while later loads refresh the marts on the old seed."""
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("submission", ["120104|2007H1"])
        loaded(instance, "120104|2007H1")
        for key in ("raw", "seed", "mart"):
            built(instance, key, "v1" if key == "seed" else None)
        before = dg.evaluate_automation_conditions(defs=graph("v1"), instance=instance)
        deployed = graph("v2")  # a deployment changed the seed
        tick = dg.evaluate_automation_conditions(defs=deployed, instance=instance, cursor=before.cursor)
        assert tick.get_num_requested(dg.AssetKey("seed")) == 1
        # the rebuild it requested failed: the seed is still built from v1
        assert instance.get_latest_materialization_code_versions([dg.AssetKey("seed")]) == {
            dg.AssetKey("seed"): "v1"
        }
        again = dg.evaluate_automation_conditions(defs=deployed, instance=instance, cursor=tick.cursor)
        assert again.get_num_requested(dg.AssetKey("seed")) == 0  # never asked again


def test_a_seed_changed_before_the_first_evaluation_is_never_seen():
    """The same rule after a restart: the daemon first evaluates the new code (no previous code
    version to compare with), so a seed changed by that deployment is never rebuilt by automation."""
    with dg.instance_for_test() as instance:
        built(instance, "seed", "v1")
        first = dg.evaluate_automation_conditions(defs=graph("v2"), instance=instance)
        assert first.get_num_requested(dg.AssetKey("seed")) == 0
        assert instance.get_latest_materialization_code_versions([dg.AssetKey("seed")]) == {
            dg.AssetKey("seed"): "v1"
        }
