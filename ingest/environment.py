"""The process environment a run needs: data home, Dagster home, dbt manifest, no telemetry.

Decided when a command starts (never at import) and handed on through environment variables,
so the in-process run, `dagster dev` and the dbt subprocess all see the same paths.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ingest.reference import project_root

QUIET_TELEMETRY = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
}

# How the warehouse's `dbt build` runs wherever it is started (the Dagster asset, the benchmark);
# each is a default a user's own environment can override.
DBT_BUILD_ENV = {
    # A build of part of the models (a backfill from the UI splits them; the refresh after new
    # submissions) runs only the tests whose models are all built by then, not a relationship test
    # towards a model that does not exist yet. A full build runs them all.
    "DBT_INDIRECT_SELECTION": "buildable",
    # Unit tests check the metrics' SQL on fixed inputs, not the data: they run in CI (`make test`,
    # tests/integration/test_dbt_unit_tests.py) and on every `dbt build` a developer starts, not in
    # every build of the warehouse (dbt's own advice). Measured at scale 1.0: 32 unit tests, ≈3.5 s
    # of a 15 s build, the same on a resubmission of 85k rows as on the city's 2.2M.
    "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
}

# After new submissions only the raw tables changed (not the seeds, not the project): a refresh
# builds the models that read them and everything downstream (the facts incrementally), with their
# tests. The Dagster job `refresh_after_submissions` selects the same models from the asset graph
# (checked by tests/integration/test_orchestration.py).
REFRESH_SELECT = "source:raw+"


# DuckDB's own default is 80% of the machine's memory: at 10x the city, `dbt build` and the GX
# suites then reached 4.1 and 3.5 GB. Beyond this limit DuckDB spills to disk (beside the
# warehouse). The dbt profile reads the same variable with the same default (profiles.yml).
DUCKDB_MEMORY_LIMIT = "2GB"


def duckdb_memory_limit() -> str:
    """DuckDB's memory limit for the warehouse's builds and checks: QIANGJI_DUCKDB_MEMORY_LIMIT."""
    return os.environ.get("QIANGJI_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT


def dbt_build_env() -> dict[str, str]:
    """`DBT_BUILD_ENV` under the process's own settings: what a warehouse build's dbt sees."""
    return {**DBT_BUILD_ENV, **{k: os.environ[k] for k in DBT_BUILD_ENV if k in os.environ}}


def configure(home: Path, landing: Path, demo: bool = False) -> dict[str, str]:
    """Set the variables for a run with data in `home`; return what was set."""
    home = home.resolve()
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or home / "dagster").resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    _install(project_root() / "dagster.yaml", dagster_home / "dagster.yaml")
    values = {
        **QUIET_TELEMETRY,
        "QIANGJI_HOME": str(home),
        "QIANGJI_LANDING": str(landing.resolve()),
        "QIANGJI_WAREHOUSE": str(home / "warehouse.duckdb"),
        # the Spark target's raw tables (`qiangji export-raw`); a cluster's location is kept
        "QIANGJI_RAW_PARQUET": os.environ.get("QIANGJI_RAW_PARQUET") or str(home / "raw_parquet"),
        "DAGSTER_HOME": str(dagster_home),
    }
    if demo:
        values["QIANGJI_DEMO"] = "1"
    os.environ.update(values)
    return values


def _install(source: Path, target: Path) -> None:
    """Copy aside and rename into place: a run starting meanwhile never reads half a file."""
    if target.exists() and target.read_bytes() == source.read_bytes():
        return
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def manifest_is_stale(project_dir: Path) -> bool:
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "seeds", "macros", "tests"):
        sources += [p for p in (project_dir / folder).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in sources if p.exists())


def prepare_dbt(force: bool = False) -> Path:
    """Parse the dbt project into target/manifest.json when it changed (build/dev time, not import)."""
    project_dir = project_root() / "dbt_project"
    manifest = project_dir / "target" / "manifest.json"
    if force or manifest_is_stale(project_dir):
        env = {**os.environ, **QUIET_TELEMETRY}
        env.setdefault("QIANGJI_WAREHOUSE", str(project_root() / "data" / "warehouse.duckdb"))
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--quiet",
            ],
            check=True,
            env=env,
            cwd=project_dir,
        )
        manifest.touch()
    return manifest
