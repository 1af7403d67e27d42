"""Transform: the dbt project as Dagster assets; dbt tests become asset checks.

The manifest is prepared before Dagster loads this module (orchestration/project.py); it is read
here, never parsed.

Each model's columns (names, contract types, descriptions) are definition metadata from the
manifest (`QiangjiTranslator`). Row counts are counted once dbt has ended, in one query, and
reported as observations (`dagster/row_count`, which the UI shows when the materialization has
none): dagster-dbt's `fetch_row_counts()` / `fetch_column_metadata()` hold back every event of
the build until dbt exits on DuckDB, and then open the warehouse through dbt's adapter inside the
run's process, which keeps it open — the run's next connection to the warehouse then fails
("Can't open a connection to same database file with a different configuration"). Measured on 24
files (a first `qiangji run`, 59 models): the first model's materialization reached Dagster after
38.6 s instead of 14.8 s, the dbt step took 60 s instead of 30 s, and the run failed.
"""

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.preload import import_in_background
from orchestration.project import (
    PARTIAL_PARSE,
    QiangjiTranslator,
    build_args,
    dbt_build_env,
    dbt_project,
    dbt_rows,
    start_from_saved_parse,
)
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome
from warehouse.files import copy_into_place


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
    if _runs_step(context, GX_STEP):  # GX's import (≈ 5 s) while dbt works in its own process
        import_in_background("great_expectations")
    target = invocation_folder(context.op.name, context.run.run_id)
    saved_parse = qiangji.layout.dbt_parse
    start_from_saved_parse(target, saved_parse)
    invocation = dbt.cli(
        build_args(context.run.tags), context=context, raise_on_error=False, target_path=target
    )
    built: list[str] = []  # the dbt nodes materialized, as their events stream by
    for event in invocation.stream():
        if isinstance(event, dg.Output | dg.AssetMaterialization) and "unique_id" in event.metadata:
            built.append(str(event.metadata["unique_id"].value))
        yield event
    counts = record_dbt_audit(
        qiangji,
        invocation.get_artifact("run_results.json"),
        context.run.run_id,
        counted_relations(invocation.manifest, built),
    )
    for unique_id, rows in counts.items():
        yield dg.AssetObservation(
            asset_key=asset_key_of(invocation.manifest, unique_id),
            metadata={"dagster/row_count": dg.MetadataValue.int(rows)},
        )
    save_parse(target, saved_parse)
    prune_invocation_folders(invocation.target_path)
    if not invocation.is_successful():
        raise dg.Failure("dbt build failed: see the failed models and tests above (and logs/dbt.log)")


def invocation_folder(op: str, run_id: str) -> Path:
    """A build's own target folder, named as dagster-dbt names them (`<op>-<run>-<id>`)."""
    return dbt_project().project_dir / "target" / f"{op}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def save_parse(target: Path, saved: Path) -> None:
    """Keep the parse the build left (dbt rewrites it when it parsed anew) for the home's next build;
    written aside and renamed, so a build never starts from half a file."""
    parsed = target / PARTIAL_PARSE
    if not parsed.is_file():
        return
    saved.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    copy_into_place(parsed, saved)


# dagster-dbt gives every build a target folder of its own (`<op>-<run>-<uuid>`: manifest, parse,
# compiled SQL, dbt's log; ≈ 5 MB) and never removes one. The newest few are kept to look into.
INVOCATION_FOLDERS_KEPT = 5


def prune_invocation_folders(current: Path, keep: int = INVOCATION_FOLDERS_KEPT) -> list[Path]:
    """Remove the target folders of earlier builds of this op beside `current` but the newest, so that
    `keep` are left, `current` among them; return those removed. Builds never overlap (the pool)."""
    op = current.name.split("-", 1)[0]
    earlier = [p for p in current.parent.glob(f"{op}-*") if p.is_dir() and p != current]
    earlier.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = earlier[max(keep - 1, 0) :]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


# The step of the GX suites (orchestration/defs/quality.py), which runs after the build.
GX_STEP = "great_expectations_suites"


def _runs_step(context: dg.AssetExecutionContext, step: str) -> bool:
    """Whether this run's plan has `step` (a run of part of the graph may not)."""
    steps = context.run.step_keys_to_execute
    if steps is not None:
        return step in steps
    return any(node.name == step for node in context.job_def.nodes)


def record_dbt_audit(
    qiangji: QiangjiHome,
    run_results: Mapping[str, Any],
    run_id: str,
    relations: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Every dbt data and unit test of the build, into audit.audit_check_results; and, through the
    same connection, the rows of each of `relations` (unique_id -> relation) in one query."""
    import duckdb

    from warehouse.audit import now, write_audit_rows

    with duckdb.connect(str(qiangji.layout.warehouse)) as con:
        write_audit_rows(con, dbt_rows(dict(run_results), run_id, now()))
        return row_counts(con, relations or {})


def counted_relations(manifest: Mapping[str, Any], unique_ids: list[str]) -> dict[str, str]:
    """The relations (schema.alias) of the built nodes worth counting: tables, incremental models
    and seeds, not views (counting a view runs its query; dagster-dbt skips them too)."""
    relations = {}
    for unique_id in unique_ids:
        node = manifest.get("nodes", {}).get(unique_id)
        if node is None or node.get("config", {}).get("materialized") in ("view", "ephemeral"):
            continue
        relations[unique_id] = ".".join(_quoted(node[k]) for k in ("schema", "alias"))
    return relations


def row_counts(con: Any, relations: Mapping[str, str]) -> dict[str, int]:
    """Rows of each relation, one query (DuckDB counts a table's rows from its row groups)."""
    import duckdb

    if not relations:
        return {}
    ids = list(relations)
    query = " UNION ALL ".join(
        f"SELECT {i} AS i, count(*) AS n FROM {relations[u]}" for i, u in enumerate(ids)
    )
    try:
        return {ids[i]: n for i, n in con.execute(query).fetchall()}
    except duckdb.Error:  # a relation dropped meanwhile: no counts this time, the build stands
        return {}


def asset_key_of(manifest: Mapping[str, Any], unique_id: str) -> dg.AssetKey:
    return QiangjiTranslator().get_asset_key(manifest["nodes"][unique_id])


def _quoted(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


defs = dg.Definitions(assets=[warehouse_models])
