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

from orchestration.internals import latest_check_evaluation
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome
from warehouse.publish import PUBLISHED_MODELS, publish_marts


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
        qiangji.layout.warehouse, qiangji.layout.published, [*PUBLISHED_MODELS, *audit_tables(qiangji)]
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
    from reporting.dashboard import build_dashboard
    from warehouse.publish import apply_published_mode

    path = build_dashboard(qiangji.layout.published_database, qiangji.layout.dashboard)
    apply_published_mode(qiangji.layout.published)  # readable by the BI readers' group, as the marts
    context.log.info(f"dashboard: {path}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


def audit_tables(qiangji: QiangjiHome) -> list[str]:
    """The audit trail of every check of every run (it exists before the first check writes to it)."""
    import duckdb

    from warehouse.audit import AUDIT_TABLE, ensure_audit_table

    with duckdb.connect(str(qiangji.layout.warehouse)) as con:
        ensure_audit_table(con)
    return [AUDIT_TABLE]


def blocking_checks() -> list[dg.AssetCheckSpec]:
    """The blocking checks on the models this step publishes: dbt tests of severity error and the GX
    suites' integrity checks. From their definitions, not from the run's asset graph, which holds only
    what the run selected."""
    from orchestration.defs.quality import great_expectations_suites
    from orchestration.defs.transform import warehouse_models

    specs = [*warehouse_models.check_specs, *great_expectations_suites.check_specs]
    return [spec for spec in specs if spec.blocking]


def unchecked_models(context: dg.AssetExecutionContext) -> list[str]:
    """Published models whose blocking checks did not all pass after the model was last built."""
    keys = [dg.AssetKey([name]) for name in PUBLISHED_MODELS]
    blocking = [spec.key for spec in blocking_checks() if spec.asset_key in keys]
    latest = {k: latest_check_evaluation(context.instance, k) for k in blocking}
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
