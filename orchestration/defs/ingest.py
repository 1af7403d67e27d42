"""Ingest: every submission in the landing folder into the warehouse's raw tables."""

import os
from collections import Counter

import dagster as dg

from ingest.identity import load_key
from ingest.load import DATA_SHEETS
from ingest.pipeline import ingest_landing, list_landing
from ingest.settings import IngestSettings
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome

RAW_TABLES = ["submissions", "problems", *[s.table for s in DATA_SHEETS]]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["raw", table]),
            group_name="ingest",
            kinds={"duckdb", "python"},
            description=f"raw.{table}: written by ingest, one transaction per submission",
        )
        for table in RAW_TABLES
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def raw_tables(context: dg.AssetExecutionContext, qiangji: QiangjiHome):
    """Read, validate, pseudonymize and load every new submission in the landing folder."""
    demo = os.environ.get("QIANGJI_DEMO") == "1"
    key = load_key(qiangji.demo_key_file if demo else None)
    landing = qiangji.landing_path
    paths = list_landing(landing) if landing.exists() else []
    outcomes = ingest_landing(
        paths,
        qiangji.warehouse_path,
        qiangji.archive_path,
        key,
        IngestSettings.from_env(),
        progress=lambda o: context.log.info(
            f"{o.file_name}: {o.status}"
            + (f", {o.quarantined_rows} quarantined rows" if o.quarantined_rows else "")
            + (f" — {o.reason.rule}" if o.reason else "")
        ),
    )
    statuses = Counter(o.status for o in outcomes)
    summary = {
        "files": dg.MetadataValue.int(len(outcomes)),
        **{status: dg.MetadataValue.int(n) for status, n in sorted(statuses.items())},
        "quarantined_rows": dg.MetadataValue.int(sum(o.quarantined_rows for o in outcomes)),
    }
    for table in RAW_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", table]), metadata=summary)


defs = dg.Definitions(assets=[raw_tables])
