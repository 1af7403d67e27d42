"""Transform: the dbt project as Dagster assets; dbt tests become asset checks.

The manifest is prepared before Dagster loads this module (orchestration/project.py); it is read
here, never parsed.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.project import QiangjiTranslator, build_args, dbt_build_env, dbt_project, dbt_rows
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome


def manifest_path() -> str:
    path = dbt_project().manifest_path
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `qiangji prepare` (or `make run`) to parse the dbt project first"
        )
    return str(path)


@dbt_assets(
    manifest=manifest_path(),
    project=dbt_project(),
    dagster_dbt_translator=QiangjiTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, qiangji: QiangjiHome):
    # dbt's profile reads the warehouse path from the environment of its process; how a build
    # selects its tests (orchestration.project.DBT_BUILD_ENV) too.
    os.environ["QIANGJI_WAREHOUSE"] = str(qiangji.layout.warehouse)
    os.environ.update(dbt_build_env())
    invocation = dbt.cli(build_args(context.run.tags), context=context, raise_on_error=False)
    yield from invocation.stream()
    record_dbt_audit(qiangji, invocation.get_artifact("run_results.json"), context.run.run_id)
    if not invocation.is_successful():
        raise dg.Failure("dbt build failed: see the failed models and tests above (and logs/dbt.log)")


def record_dbt_audit(qiangji: QiangjiHome, run_results: Mapping[str, Any], run_id: str) -> None:
    """Every dbt data and unit test of the build, into audit.audit_check_results."""
    import duckdb

    from warehouse.audit import now, write_audit_rows

    with duckdb.connect(str(qiangji.layout.warehouse)) as con:
        write_audit_rows(con, dbt_rows(dict(run_results), run_id, now()))


defs = dg.Definitions(assets=[warehouse_models])
