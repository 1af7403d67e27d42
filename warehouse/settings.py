"""Settings of the warehouse's DuckDB, read when a command starts (never at import)."""

from __future__ import annotations

import os

# DuckDB's own default is 80% of the machine's memory: at 10x the city, `dbt build` and the GX
# suites then reached 4.1 and 3.5 GB. Beyond this limit DuckDB spills to disk (beside the
# warehouse). The dbt profile reads the same variable with the same default (profiles.yml).
DUCKDB_MEMORY_LIMIT = "2GB"


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit for the warehouse's builds and checks: QIANGJI_DUCKDB_MEMORY_LIMIT."""
    return os.environ.get("QIANGJI_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT
