"""Transform: the dbt project as Dagster assets; dbt tests become asset checks.

The manifest is prepared before Dagster loads this module (`qiangji prepare`, run by the Makefile
and by `qiangji run`/`qiangji dev`); it is read here, never parsed.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ingest.environment import dbt_build_env
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome, dbt_project_dir

DBT_PROJECT = DbtProject(project_dir=dbt_project_dir())


# Groups by the role a model plays in the flow, from its name: ingest → staging → intermediate →
# marts → publish. Not by folder: the facts and dimensions (models/marts/core) are read by the
# per-target metrics (models/intermediate/targets), so by folder the graph would go marts →
# intermediate → marts. Facts and dimensions sit with the intermediate models in the flow, between
# staging and the marts BI tools read.
GROUP_BY_PREFIX = {
    "stg": "staging",
    "int": "intermediate",
    "fct": "intermediate",
    "dim": "intermediate",
    "mart": "marts",
    "audit": "marts",
}


class QiangjiTranslator(DagsterDbtTranslator):
    """Groups by layer (staging, intermediate, marts), so the graph reads as the data flows."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        prefix = dbt_resource_props["name"].split("_", 1)[0]
        fqn = dbt_resource_props.get("fqn", [])
        return GROUP_BY_PREFIX.get(prefix) or (fqn[1] if len(fqn) > 2 else "dbt")


def manifest_path() -> str:
    path = DBT_PROJECT.manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `qiangji prepare` (or `make run`) to parse the dbt project first"
        )
    return str(path)


@dbt_assets(
    manifest=manifest_path(),
    project=DBT_PROJECT,
    dagster_dbt_translator=QiangjiTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, qiangji: QiangjiHome):
    # dbt's profile reads the warehouse path from the environment of its process; how a build
    # selects its tests (ingest.environment.DBT_BUILD_ENV) too.
    os.environ["QIANGJI_WAREHOUSE"] = str(qiangji.warehouse_path)
    os.environ.update(dbt_build_env())
    invocation = dbt.cli(build_args(context.run.tags), context=context, raise_on_error=False)
    yield from invocation.stream()
    record_dbt_audit(qiangji, invocation.get_artifact("run_results.json"), context.run.run_id)
    if not invocation.is_successful():
        raise dg.Failure("dbt build failed: see the failed models and tests above (and logs/dbt.log)")


# A run tagged so (`qiangji run --full-rebuild`, or a launch from the UI with this tag) builds the
# incremental facts from scratch: needed once after a fact's columns changed (on_schema_change: fail).
FULL_REFRESH_TAG = "qiangji/full_refresh"


def build_args(tags: Mapping[str, str]) -> list[str]:
    """The dbt command of a run: `build`, from scratch when the run is tagged `FULL_REFRESH_TAG`."""
    return ["build", "--full-refresh"] if tags.get(FULL_REFRESH_TAG) == "true" else ["build"]


def record_dbt_audit(qiangji: QiangjiHome, run_results: Mapping[str, Any], run_id: str) -> None:
    """Every dbt data and unit test of the build, into audit.audit_check_results."""
    import duckdb

    from ingest.audit import dbt_rows, now, write_audit_rows

    with duckdb.connect(str(qiangji.warehouse_path)) as con:
        write_audit_rows(con, dbt_rows(dict(run_results), run_id, now()))


defs = dg.Definitions(assets=[warehouse_models])
