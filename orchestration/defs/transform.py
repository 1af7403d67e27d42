"""Transform: the dbt project as Dagster assets; dbt tests become asset checks.

The manifest is prepared before Dagster loads this module (`qiangji prepare`, run by the Makefile
and by `qiangji run`/`qiangji dev`); it is read here, never parsed.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.resources import WAREHOUSE_POOL, QiangjiHome, dbt_project_dir

DBT_PROJECT = DbtProject(project_dir=dbt_project_dir())


class QiangjiTranslator(DagsterDbtTranslator):
    """Groups by layer (staging, intermediate, marts), so the graph reads as the data flows."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


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
    # dbt's profile reads the warehouse path from the environment of its process.
    os.environ["QIANGJI_WAREHOUSE"] = str(qiangji.warehouse_path)
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(assets=[warehouse_models])
