"""Publish: copy the marts and dimensions into published/marts.duckdb, replaced atomically.

BI tools read the published copy, never the live warehouse: a reader holding the old file keeps
reading it while the new one is renamed into place.
"""

import dagster as dg

from ingest.publish import publish_marts
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome

PUBLISHED_MODELS = ["mart_target_attainment", "dim_target", "dim_district", "dim_period"]


@dg.asset(
    deps=[dg.AssetKey([name]) for name in PUBLISHED_MODELS],
    group_name="publish",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def published_marts(context: dg.AssetExecutionContext, qiangji: QiangjiHome) -> dg.MaterializeResult:
    """published/marts.duckdb: the marts and dimensions for BI tools (no member-level rows)."""
    target = qiangji.published_path / "marts.duckdb"
    counts = publish_marts(qiangji.warehouse_path, target, PUBLISHED_MODELS)
    context.log.info(f"published {target}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            **{f"rows_{name}": dg.MetadataValue.int(n) for name, n in counts.items()},
        }
    )


defs = dg.Definitions(assets=[published_marts])
