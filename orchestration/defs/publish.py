"""Publish: copy the marts and dimensions into published/marts.duckdb, replaced atomically.

BI tools read the published copy, never the live warehouse: a reader holding the old file keeps
reading it while the new one is renamed into place.
"""

import dagster as dg

from ingest.publish import publish_marts
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome

# Marts and dimensions only: no member-level or raw rows leave the warehouse.
PUBLISHED_MODELS = [
    "mart_target_attainment",
    "mart_target_attainment_current_districts",
    "mart_member_development",
    "mart_organization_coverage",
    "mart_cadre_training",
    "mart_submission_status",
    "mart_cross_district_duplicates",
    "dim_target",
    "dim_district",
    "dim_period",
]


@dg.asset(
    deps=[dg.AssetKey([name]) for name in PUBLISHED_MODELS],
    group_name="publish",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def published_marts(context: dg.AssetExecutionContext, qiangji: QiangjiHome) -> dg.MaterializeResult:
    """published/: marts.duckdb, a Parquet file per table and a CSV per mart, for BI tools."""
    publication = publish_marts(qiangji.warehouse_path, qiangji.published_path, PUBLISHED_MODELS)
    context.log.info(f"published {publication.database}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.database)),
            **{f"rows_{name}": dg.MetadataValue.int(n) for name, n in publication.rows.items()},
        }
    )


defs = dg.Definitions(assets=[published_marts])
