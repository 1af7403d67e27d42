"""The dbt project as Dagster sees it: its `DbtProject`, how its manifest is prepared, how it builds.

The manifest is prepared before Dagster loads the definitions (`qiangji prepare`, the Makefile,
`qiangji run` and `qiangji dev`) through the project's preparer, never at import. dbt's partial
parsing decides what changed since the last parse (the file hashes in target/partial_parse.msgpack).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, DbtProjectPreparer

from warehouse.audit import audit_frame
from warehouse.reference import project_root

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
# tests. The selector lives in dbt_project/selectors.yml; the Dagster job `refresh_after_submissions`
# selects the same models from the asset graph (checked by tests/integration/test_orchestration.py).
REFRESH_SELECTOR = "refresh_after_submissions"

# A run tagged so (`qiangji run --full-rebuild`, or a launch from the UI with this tag) builds the
# incremental facts from scratch: needed once after a fact's columns changed (on_schema_change: fail).
FULL_REFRESH_TAG = "qiangji/full_refresh"


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def dbt_executable() -> str:
    """The venv's dbt, also when the venv is not on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_build_env() -> dict[str, str]:
    """`DBT_BUILD_ENV` under the process's own settings: what a warehouse build's dbt sees."""
    return {**DBT_BUILD_ENV, **{k: os.environ[k] for k in DBT_BUILD_ENV if k in os.environ}}


def build_args(tags: Mapping[str, str]) -> list[str]:
    """The dbt command of a run: `build`, from scratch when the run is tagged `FULL_REFRESH_TAG`."""
    return ["build", "--full-refresh"] if tags.get(FULL_REFRESH_TAG) == "true" else ["build"]


def dbt_cli_resource() -> DbtCliResource:
    project_dir = str(dbt_project_dir())
    return DbtCliResource(project_dir=project_dir, profiles_dir=project_dir, dbt_executable=dbt_executable())


class ParsePreparer(DbtProjectPreparer):
    """Prepares the manifest with `dbt parse` through the venv's dbt, quiet and offline.

    `prepare` always parses (`qiangji prepare`, the Makefile). `prepare_if_dev`, which `qiangji run`
    and `qiangji dev` call before loading the definitions, parses only when a file of the project is
    newer than the manifest, the rule make applies to the same files. Not a parse on every run: that
    costs ≈3.4 s even with dbt's partial parsing, and dbt rewrites manifest.json in place, so a
    second `qiangji run` starting meanwhile could load half a manifest.
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if _manifest_is_stale(project):
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        # dbt's profile names the warehouse; parsing opens no connection, any path will do.
        env = {"QIANGJI_WAREHOUSE": str(project_root() / "data" / "warehouse.duckdb"), **os.environ}
        folder = str(project.project_dir)
        subprocess.run(
            [dbt_executable(), "parse", "--project-dir", folder, "--profiles-dir", folder, "--quiet"],
            check=True,
            env={**env, **QUIET_TELEMETRY},
            cwd=folder,
        )
        project.manifest_path.touch()  # parsed now, whatever dbt's partial parsing left unwritten


# The project's files, as the Makefile lists them for its manifest target.
PROJECT_FOLDERS = ("models", "seeds", "macros", "tests")
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "selectors.yml")


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    folder = Path(project.project_dir)
    sources = [folder / name for name in PROJECT_FILES]
    for sub in PROJECT_FOLDERS:
        sources += [p for p in (folder / sub).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in sources if p.exists())


@cache
def dbt_project() -> DbtProject:
    project_dir = dbt_project_dir()
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir)


# dagster-dbt 0.29 takes no preparer in DbtProject's constructor: the project's preparer is this one.
PREPARER = ParsePreparer()


def prepare_dbt(force: bool = False) -> Path:
    """The dbt project's manifest, parsed when the project changed (or with `force`); called when a
    command starts, never at import."""
    project = dbt_project()
    if force:
        PREPARER.prepare(project)
    else:
        PREPARER.prepare_if_dev(project)
    return project.manifest_path


class QiangjiTranslator(DagsterDbtTranslator):
    """Groups by the folder under models/ (staging, intermediate, core, metrics, marts), so the graph
    reads as the data flows; seeds are `reference`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


def dbt_rows(run_results: Mapping[str, Any], run_id: str, checked_at: dt.datetime) -> pl.DataFrame:
    """The dbt layer's rows of the audit trail: every dbt test (data and unit tests) of a `dbt build`,
    from its run_results.json."""
    rows = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith(("test.", "unit_test.")):
            continue
        status = str(result.get("status"))
        parts = unique_id.split(".")  # test.<project>.<name>.<hash> | unit_test.<project>.<model>.<name>
        is_unit = unique_id.startswith("unit_test.")
        rows.append(
            {
                "run_id": run_id,
                "checked_at": checked_at,
                "layer": "dbt",
                "check_name": f"{parts[2]}::{parts[3]}" if is_unit else parts[2],
                "asset": parts[2] if is_unit else None,
                "district_code": None,
                "period": None,
                "submission_id": None,
                "passed": status == "pass",
                "failing_count": int(result.get("failures") or 0) if status != "pass" else 0,
                "severity": "warning" if status == "warn" else "blocking",
                "details": (result.get("message") or None) if status != "pass" else None,
            }
        )
    return audit_frame(rows)
