"""Publish: copy the marts and dimensions into published/marts.duckdb, replaced atomically.

BI tools read the published copy, never the live warehouse: a reader holding the old file keeps
reading it while the new one is renamed into place.

Only checked marts are published. In a run, a failed blocking check (GX, dbt tests of severity
error) stops this step. Across runs, the pool serializes steps, not runs: another run may rebuild
the marts between this run's checks and this step. So before copying, this step verifies with the
instance that every blocking check of the published models passed after their last
materialization; if not, it publishes nothing (the run that rebuilt them publishes after its own
checks).
"""

from collections.abc import Iterator

import dagster as dg

from ingest.publish import PUBLISHED_MODELS, publish_marts
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome


@dg.asset(
    deps=[dg.AssetKey([name]) for name in PUBLISHED_MODELS],
    group_name="publish",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    output_required=False,  # nothing is published while a blocking check has not passed
)
def published_marts(
    context: dg.AssetExecutionContext, qiangji: QiangjiHome
) -> Iterator[dg.MaterializeResult]:
    """published/: marts.duckdb, a Parquet file per table and a CSV per mart, for BI tools."""
    unchecked = unchecked_models(context)
    if unchecked:
        context.log.warning(
            "not published: changed since their blocking checks last passed: " + ", ".join(unchecked)
        )
        return
    publication = publish_marts(
        qiangji.warehouse_path, qiangji.published_path, [*PUBLISHED_MODELS, *audit_tables(qiangji)]
    )
    context.log.info(f"published {publication.database}")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.database)),
            **{f"rows_{name}": dg.MetadataValue.int(n) for name, n in publication.rows.items()},
        }
    )


@dg.asset(deps=[published_marts], group_name="publish", kinds={"html"})
def attainment_dashboard(context: dg.AssetExecutionContext, qiangji: QiangjiHome) -> dg.MaterializeResult:
    """published/dashboard.html: heat map, trends, a page per district, submission status (offline)."""
    from ingest.dashboard import build_dashboard

    path = build_dashboard(qiangji.published_path / "marts.duckdb", qiangji.published_path / "dashboard.html")
    context.log.info(f"dashboard: {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


def audit_tables(qiangji: QiangjiHome) -> list[str]:
    """The audit trail of every check of every run (it exists before the first check writes to it)."""
    import duckdb

    from ingest.audit import AUDIT_TABLE, ensure_audit_table

    with duckdb.connect(str(qiangji.warehouse_path)) as con:
        ensure_audit_table(con)
    return [AUDIT_TABLE]


def _latest_evaluation(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey):
    """The check's most recent evaluation, by when it was evaluated.

    Not `get_latest_asset_check_execution_by_key`: that is the execution planned last, i.e. of the
    run that started last. Of two runs started together, the one that started last may have
    evaluated first; then each run would find a check older than the other's rebuild, and
    neither would publish (seen in tests/reliability's two-runs drill).
    """
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

    done = {Status.SUCCEEDED, Status.FAILED}
    records = instance.event_log_storage.get_asset_check_execution_history(check_key, limit=20, status=done)
    return max((r for r in records if r.event is not None), key=lambda r: r.event.timestamp, default=None)


def unchecked_models(context: dg.AssetExecutionContext) -> list[str]:
    """Published models whose blocking checks did not all pass after the model was last built."""
    # The checks of the whole code location: a run's own asset graph holds only what it selected.
    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
    keys = [dg.AssetKey([name]) for name in PUBLISHED_MODELS]
    blocking = [k for k in graph.get_check_keys_for_assets(keys) if graph.get_check_spec(k).blocking]
    latest = {k: _latest_evaluation(context.instance, k) for k in blocking}
    unchecked = []
    for key in keys:
        built = context.instance.get_latest_materialization_event(key)
        for check_key in (k for k in blocking if k.asset_key == key):
            record = latest.get(check_key)
            event = record.event if record else None
            evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
            passed = record is not None and (
                record.status.value == "SUCCEEDED"
                or (
                    record.status.value == "FAILED"
                    and getattr(evaluation, "severity", None) == dg.AssetCheckSeverity.WARN
                )
            )
            if built is None or not passed or event is None or event.timestamp < built.timestamp:
                unchecked.append(check_key.to_user_string())
    return unchecked


defs = dg.Definitions(assets=[published_marts, attainment_dashboard])
