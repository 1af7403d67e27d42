"""The Dagster code location: assembled here, defined by concern under defs/."""

from __future__ import annotations

import dagster as dg

from orchestration.defs import ingest, publish, quality, transform
from orchestration.resources import build_resources

pipeline_job = dg.define_asset_job(
    "qiangji_pipeline",
    selection=dg.AssetSelection.all(),
    description="Landing folder → raw tables → dbt build → quality → published marts.",
)

defs = dg.Definitions.merge(
    ingest.defs,
    transform.defs,
    quality.defs,
    publish.defs,
    dg.Definitions(jobs=[pipeline_job], resources=build_resources()),
)
