"""The Dagster code location: assembled here, defined by concern under defs/.

    ingest (submission, partitioned by reporting unit × period → raw/*) → staging → intermediate
    → marts (dbt; tests as asset checks) → quality (GX) → publish;  schedules: sensor, nightly.

One job runs it all (`qiangji_pipeline`: `qiangji run` executes it in-process over every
submission partition, the UI launches it too); the sensor and the schedule run its two halves.
Once the seeds are built, new submissions need only what reads the raw tables: the sensor's
refresh and `qiangji run`'s `load_and_refresh` build that.
Every step runs in the run's own process (in-process executor): each one uses the one DuckDB
warehouse, so steps of a run never run side by side anyway, and a process per step would only
add start-up time. Writers of different runs are serialized by the pool `duckdb_warehouse`.
"""

import dagster as dg

from orchestration.defs import ingest, publish, quality, schedules, transform
from orchestration.resources import build_resources

pipeline_job = dg.define_asset_job(
    "qiangji_pipeline",
    selection=dg.AssetSelection.all(),
    description="Landing folder → raw tables → dbt build → quality → published marts.",
)
# `qiangji run` when the seeds and their dimensions are built from the deployed code: new files
# loaded, then the refresh of what reads the raw tables (as the sensors do in `qiangji dev`).
load_and_refresh_job = dg.define_asset_job(
    "load_and_refresh",
    selection=dg.AssetSelection.assets(ingest.SUBMISSION) | schedules.REFRESH_SELECTION,
    description="Landing folder → raw tables → dbt build of what reads them → quality → published marts.",
)

defs = dg.Definitions.merge(
    ingest.defs,
    transform.defs,
    quality.defs,
    publish.defs,
    schedules.defs,
    dg.Definitions(
        jobs=[pipeline_job, load_and_refresh_job],
        resources=build_resources(),
        executor=dg.in_process_executor,
    ),
)
