"""Publish: copy the marts and dimensions into published/marts.duckdb, replaced atomically.

BI tools read the published copy, never the live warehouse: a reader holding the old file keeps
reading it while the new one is renamed into place.

Each published table is its own asset, `published/<table>` (the audit trail `published/
audit_check_results` among them), with its row count, its columns as the published file has them
(types and comments), its table name in that file and a freshness policy tied to the nightly
rebuild. One step, `published_marts`, publishes them all at once: the copy is one file renamed
into place, so the tables are never published apart.

Only checked marts are published. In a run, a failed blocking check (GX, dbt tests of severity
error) stops this step. Across runs, the pool serializes steps, not runs: another run may rebuild
the marts between this run's checks and this step. So before copying, this step verifies with the
instance that every blocking check of the published models passed after their last
materialization; if not, it publishes nothing (the run that rebuilt them publishes after its own
checks).
"""

from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import dagster as dg

from orchestration.internals import latest_check_evaluation
from orchestration.project import DATA_ENGINEERING, PROGRAMME_OFFICE, catalog_tags
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome
from warehouse.audit import AUDIT_SCHEMA, AUDIT_TABLE
from warehouse.layout import PUBLISHED_DATABASE
from warehouse.publish import PUBLISHED_MODELS, publish_marts

# The audit trail's table, published under its own name next to the marts.
AUDIT_PUBLISHED = AUDIT_TABLE.rpartition(".")[2]
PUBLISHED_TABLES = [*PUBLISHED_MODELS, AUDIT_PUBLISHED]
PUBLISHED_KEYS = {table: dg.AssetKey(["published", table]) for table in PUBLISHED_TABLES}
# DuckDB names a database file's catalog after the file: `marts.main.<table>` for a BI reader.
PUBLISHED_CATALOG = Path(PUBLISHED_DATABASE).stem

# Data engineering publishes; the programme office co-owns what is published (project.py).
PUBLISHED_OWNERS = [DATA_ENGINEERING, PROGRAMME_OFFICE]
PUBLISHED_TAGS = catalog_tags("published", member_rows=False, published="true")

# The nightly rebuild starts at 02:00 Asia/Shanghai (automation.py `nightly_rebuild`) and publishes
# at its end. Each published table must have been published between 02:00 and 04:00 of the night
# before: once 04:00 passed, a table last published before 02:00 (the night's run failed, was
# still going, or published nothing because a blocking check failed) is FAILING until the next
# publication. Publications during the day (a refresh after new submissions) do not count for
# the next night: the night must publish. Evaluated by the daemon's freshness loop (`qiangji dev`;
# dagster.yaml `freshness`), shown in the UI and in GraphQL (`freshnessStatusInfo`).
NIGHTLY_DEADLINE = dg.FreshnessPolicy.cron(
    deadline_cron="0 4 * * *", lower_bound_delta=timedelta(hours=2), timezone="Asia/Shanghai"
)


def published_name(table: str) -> str:
    """The table's name as Dagster's `dagster/table_name` wants it, fully qualified: as a BI reader
    who opened published/marts.duckdb names it (DuckDB: catalog.schema.table)."""
    return f"{PUBLISHED_CATALOG}.main.{table}"


# SQL types of the audit table's columns (warehouse.audit owns its schema).
_AUDIT_TYPES = {"String": "VARCHAR", "Datetime": "TIMESTAMP", "Boolean": "BOOLEAN", "Int64": "BIGINT"}


def _definition_metadata(table: str) -> dict[str, object]:
    """The table as it is defined: its name in the published file and, for a dbt model, the columns
    of its contract (types, descriptions) from the manifest; for the audit table, its schema."""
    metadata: dict[str, object] = {"dagster/table_name": dg.MetadataValue.text(published_name(table))}
    if table == AUDIT_PUBLISHED:
        columns = [
            dg.TableColumn(name, _AUDIT_TYPES.get(type(dtype).__name__, str(dtype)))
            for name, dtype in AUDIT_SCHEMA.items()
        ]
        metadata["dagster/column_schema"] = dg.TableSchema(columns=columns)
    else:
        model = _dbt_spec(table)
        schema = model.metadata.get("dagster/column_schema") if model else None
        if schema is not None:
            metadata["dagster/column_schema"] = schema
    return metadata


def _dbt_spec(table: str) -> dg.AssetSpec | None:
    from orchestration.defs.transform import warehouse_models

    return warehouse_models.specs_by_key.get(dg.AssetKey([table]))


def _description(table: str) -> str:
    if table == AUDIT_PUBLISHED:
        return (
            "The audit trail of every check of every run (pandera, dbt tests, Great Expectations), "
            "as published: published/marts.duckdb, table audit_check_results."
        )
    model = _dbt_spec(table)
    first = (model.description or "").split("\n\n")[0] if model else ""
    return f"{table} as published for BI tools (published/marts.duckdb and parquet/{table}.parquet)." + (
        f"\n\n{first}" if first and not first.startswith("dbt model") else ""
    )


def published_spec(table: str) -> dg.AssetSpec:
    # A table is copied from its model (the audit trail from the checks, no model). It is published
    # only once every published model passed its blocking checks (`unchecked_models`), all of them
    # in one file: the step is not subsettable, and a refresh after new submissions selects all of
    # it (jobs.py REFRESH_SELECTION takes the step's required neighbours), the dimensions' copies too.
    deps = [table] if table in PUBLISHED_MODELS else []
    return dg.AssetSpec(
        PUBLISHED_KEYS[table],
        deps=[dg.AssetKey([name]) for name in deps],
        description=_description(table),
        metadata=_definition_metadata(table),
        group_name="publish",
        kinds={"duckdb"},
        owners=PUBLISHED_OWNERS,
        tags=PUBLISHED_TAGS,
        freshness_policy=NIGHTLY_DEADLINE,
        skippable=True,  # nothing is published while a blocking check has not passed
    )


@dg.multi_asset(
    name="published_marts",  # the step's key: orchestration/runner.py and progress.py find it so
    specs=[published_spec(table) for table in PUBLISHED_TABLES],
    pool=WAREHOUSE_POOL,
    can_subset=False,  # one file renamed into place: all published tables or none
)
def published_marts(
    context: dg.AssetExecutionContext, qiangji: QiangjiHome
) -> Iterator[dg.MaterializeResult]:
    """published/: marts.duckdb, a Parquet file per table and a CSV per mart, for BI tools."""
    unchecked = unchecked_models(context)
    if unchecked:
        context.log.warning(
            "not published: changed since their blocking checks last passed: " + ", ".join(unchecked)
        )
        return
    publication = publish_marts(
        qiangji.layout.warehouse, qiangji.layout.published, [*PUBLISHED_MODELS, *audit_tables(qiangji)]
    )
    context.log.info(f"published {publication.database}")
    schemas = published_schemas(publication.database)
    parquet = qiangji.layout.published / "parquet"
    for table in PUBLISHED_TABLES:
        yield dg.MaterializeResult(
            asset_key=PUBLISHED_KEYS[table],
            metadata={
                "dagster/row_count": dg.MetadataValue.int(publication.rows[table]),
                "dagster/table_name": dg.MetadataValue.text(published_name(table)),
                **({"dagster/column_schema": schemas[table]} if table in schemas else {}),
                "path": dg.MetadataValue.path(str(publication.database)),
                "parquet": dg.MetadataValue.path(str(parquet / f"{table}.parquet")),
            },
        )


def published_schemas(database: Path) -> dict[str, dg.TableSchema]:
    """Every table of the published file with its columns as a BI reader sees them: names, types
    and comments (the dbt descriptions where publish carried them over; a column without a comment
    gets its description from the dbt contract, if any)."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            """
            SELECT table_name, column_name, data_type, comment
            FROM duckdb_columns()
            WHERE database_name = current_database() AND schema_name = 'main'
            ORDER BY table_name, column_index
            """
        ).fetchall()
    defined = {table: _defined_descriptions(table) for table in {row[0] for row in rows}}
    columns: dict[str, list[dg.TableColumn]] = {}
    for table, name, data_type, comment in rows:
        description = comment or defined[table].get(name)
        columns.setdefault(table, []).append(dg.TableColumn(name, data_type, description=description))
    return {table: dg.TableSchema(columns=cols) for table, cols in columns.items()}


def _defined_descriptions(table: str) -> Mapping[str, str]:
    model = _dbt_spec(table) if table in PUBLISHED_MODELS else None
    schema = model.metadata.get("dagster/column_schema") if model else None
    return {c.name: c.description for c in schema.columns if c.description} if schema else {}


@dg.asset(
    deps=list(PUBLISHED_KEYS.values()),
    group_name="publish",
    kinds={"html"},
    owners=PUBLISHED_OWNERS,
    tags=catalog_tags("published", member_rows=False, published="true"),
)
def attainment_dashboard(context: dg.AssetExecutionContext, qiangji: QiangjiHome) -> dg.MaterializeResult:
    """published/dashboard.html: heat map, trends, a page per district, submission status (offline);
    and published/gaps/<code>.html, the gap list each heat-map cell opens."""
    from reporting.dashboard import build_dashboard
    from reporting.dashboard.gap_pages import write_gap_pages
    from warehouse.publish import apply_published_mode

    path = build_dashboard(qiangji.layout.published_database, qiangji.layout.dashboard)
    pages = write_gap_pages(qiangji.layout.published_database, qiangji.layout.gap_lists)
    apply_published_mode(qiangji.layout.published)  # readable by the BI readers' group, as the marts
    context.log.info(f"dashboard: {path} (and {len(pages)} gap list pages)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "gap_pages": dg.MetadataValue.int(len(pages)),
        }
    )


@dg.asset(
    deps=[PUBLISHED_KEYS["mart_target_gaps"]],
    group_name="publish",
    kinds={"excel"},
    owners=PUBLISHED_OWNERS,
    tags=catalog_tags("published", member_rows=False, published="true"),
)
def gap_workbooks(context: dg.AssetExecutionContext, qiangji: QiangjiHome) -> dg.MaterializeResult:
    """published/gaps/<code>_<name>.xlsx: each reporting unit's gap list (缺口清单) over every period,
    for its organization department: Chinese headers, frozen, filtered, a summary sheet."""
    from reporting.gaps import write_gap_workbooks
    from warehouse.publish import apply_published_mode

    books = write_gap_workbooks(qiangji.layout.published_database, qiangji.layout.gap_lists)
    apply_published_mode(qiangji.layout.published)
    context.log.info(f"gap lists: {len(books)} workbooks in {qiangji.layout.gap_lists}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(qiangji.layout.gap_lists)),
            "workbooks": dg.MetadataValue.int(len(books)),
        }
    )


def audit_tables(qiangji: QiangjiHome) -> list[str]:
    """The audit trail of every check of every run (it exists before the first check writes to it)."""
    import duckdb

    from warehouse.audit import AUDIT_TABLE, ensure_audit_table

    with duckdb.connect(str(qiangji.layout.warehouse)) as con:
        ensure_audit_table(con)
    return [AUDIT_TABLE]


def blocking_checks() -> list[dg.AssetCheckSpec]:
    """The blocking checks on the models this step publishes: dbt tests of severity error and the GX
    suites' integrity checks. From their definitions, not from the run's asset graph, which holds only
    what the run selected."""
    from orchestration.defs.quality import great_expectations_suites
    from orchestration.defs.transform import warehouse_models

    specs = [*warehouse_models.check_specs, *great_expectations_suites.check_specs]
    return [spec for spec in specs if spec.blocking]


def unchecked_models(context: dg.AssetExecutionContext) -> list[str]:
    """Published models whose blocking checks did not all pass after the model was last built."""
    keys = [dg.AssetKey([name]) for name in PUBLISHED_MODELS]
    blocking = [spec.key for spec in blocking_checks() if spec.asset_key in keys]
    latest = {k: latest_check_evaluation(context.instance, k) for k in blocking}
    unchecked = []
    for key in keys:
        built = context.instance.get_latest_materialization_event(key)
        for check_key in (k for k in blocking if k.asset_key == key):
            record = latest.get(check_key)
            event = record.event if record else None
            evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
            passed = record is not None and (
                record.status.value == "SUCCEEDED"
                or (
                    record.status.value == "FAILED"
                    and getattr(evaluation, "severity", None) == dg.AssetCheckSeverity.WARN
                )
            )
            if built is None or not passed or event is None or event.timestamp < built.timestamp:
                unchecked.append(check_key.to_user_string())
    return unchecked


defs = dg.Definitions(assets=[published_marts, attainment_dashboard, gap_workbooks])
