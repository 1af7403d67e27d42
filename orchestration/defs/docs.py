"""The dbt docs site, published: `published/docs/index.html` (orchestration/docs_site.py).

Rewritten only when the dbt manifest changed since the page was generated (or the page is
missing): otherwise the step records that the page is current and returns at once. `dbt docs
generate` runs only when no home generated the page of this manifest yet (the project keeps the
latest page in target/docs_site/); it opens the warehouse to read its catalog, hence the pool.
"""

import dagster as dg

from orchestration.defs.publish import PUBLISHED_KEYS
from orchestration.docs_site import build_docs_site
from orchestration.project import DATA_ENGINEERING, catalog_tags
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome


@dg.asset(
    # after the publication (one step publishing every published/<table>): the docs site sits next to it
    deps=list(PUBLISHED_KEYS.values()),
    group_name="publish",
    kinds={"dbt", "html"},
    pool=WAREHOUSE_POOL,
    owners=[DATA_ENGINEERING],
    tags=catalog_tags("published", member_rows=False, published="true"),
)
def dbt_docs_site(context: dg.AssetExecutionContext, qiangji: QiangjiHome) -> dg.MaterializeResult:
    """published/docs/index.html: dbt's documentation of every model, column, test and exposure, one
    offline page (no data values)."""
    site = build_docs_site(qiangji.layout.warehouse, qiangji.layout.published)
    if site.ran_dbt:
        context.log.info(f"dbt docs site generated in {site.seconds:.1f} s: {site.path}")
    elif site.regenerated:
        context.log.info(f"dbt docs site copied from the project's cache (same manifest): {site.path}")
    else:
        context.log.info(f"dbt docs site current (manifest unchanged): {site.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(site.path)),
            "regenerated": dg.MetadataValue.bool(site.regenerated),
            "ran_dbt_docs_generate": dg.MetadataValue.bool(site.ran_dbt),
            "manifest_sha256": dg.MetadataValue.text(site.manifest_digest),
        }
    )


defs = dg.Definitions(assets=[dbt_docs_site])
