"""Every job of the code location, by the name other modules and commands use.

qiangji_pipeline           landing folder → raw tables → dbt build → quality → published marts
                           (`qiangji run` the first time, after the seeds changed, or --full-rebuild)
load_and_refresh           new files loaded, then what reads the raw tables (`qiangji run` after that)
ingest_submissions         one partition's files (the landing sensor)
refresh_after_submissions  what reads the raw tables (the refresh sensor, after loads)
nightly_rebuild            everything but ingest (the nightly schedule; `qiangji run` with no file)
"""

import dagster as dg

from orchestration.defs.ingest import RAW_KEYS, SUBMISSION, SUBMISSIONS

PIPELINE = "qiangji_pipeline"
LOAD_AND_REFRESH = "load_and_refresh"
INGEST_SUBMISSIONS = "ingest_submissions"
REFRESH_AFTER_SUBMISSIONS = "refresh_after_submissions"
NIGHTLY_REBUILD = "nightly_rebuild"

# What new submissions change: the raw tables and everything downstream — in dbt terms the selector
# `refresh_after_submissions` of dbt_project/selectors.yml (`source:raw+`, which the benchmark
# builds). The seeds and the dimensions made only of them stay as the last full build left them.
# The publishing step copies every published table in one file (all or none): with one of them
# downstream of the raw tables, the refresh takes the whole step, the dimensions' copies included.
REFRESH_SELECTION = dg.AssetSelection.assets(*RAW_KEYS).downstream().required_multi_asset_neighbors()

pipeline_job = dg.define_asset_job(
    PIPELINE,
    selection=dg.AssetSelection.all(),
    description="Landing folder → raw tables → dbt build → quality → published marts.",
)
load_and_refresh_job = dg.define_asset_job(
    LOAD_AND_REFRESH,
    selection=dg.AssetSelection.assets(SUBMISSION) | REFRESH_SELECTION,
    description="Landing folder → raw tables → dbt build of what reads them → quality → published marts.",
)
ingest_job = dg.define_asset_job(
    INGEST_SUBMISSIONS,
    selection=dg.AssetSelection.assets(SUBMISSION),
    partitions_def=SUBMISSIONS,
    description="Load the landing files of the selected (reporting unit, period) partitions.",
)
refresh_job = dg.define_asset_job(
    REFRESH_AFTER_SUBMISSIONS,
    selection=REFRESH_SELECTION,
    description="After new submissions: raw audit → dbt build of what reads the raw tables (facts "
    "incrementally, with their tests) → quality checks → published marts.",
)
nightly_rebuild_job = dg.define_asset_job(
    NIGHTLY_REBUILD,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(SUBMISSION),
    description="Raw audit → dbt build (tests as checks) → quality checks → published marts.",
)

# The jobs that load submissions: the refresh waits for their runs to end.
LOADING_JOBS = (INGEST_SUBMISSIONS, PIPELINE, LOAD_AND_REFRESH)

defs = dg.Definitions(jobs=[pipeline_job, load_and_refresh_job, ingest_job, refresh_job, nightly_rebuild_job])
