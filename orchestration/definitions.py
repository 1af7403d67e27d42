"""The Dagster code location: assembled here, defined by concern under defs/.

    ingest (submission, partitioned by reporting unit × period → raw/*) → staging → intermediate
    → core → metrics → marts (dbt; tests as asset checks) → quality (GX) → publish;
    jobs in defs/jobs.py; sensors and the nightly schedule in defs/automation.py.

Every step runs in the run's own process (in-process executor): each one uses the one DuckDB
warehouse, so steps of a run never run side by side anyway, and a process per step would only
add start-up time. Writers of different runs are serialized by the pool `duckdb_warehouse`.
"""

import dagster as dg

from orchestration.defs import automation, docs, ingest, jobs, publish, quality, transform
from orchestration.resources import build_resources

defs = dg.Definitions.merge(
    ingest.defs,
    transform.defs,
    quality.defs,
    publish.defs,
    docs.defs,
    jobs.defs,
    automation.defs,
    dg.Definitions(resources=build_resources(), executor=dg.in_process_executor),
)
