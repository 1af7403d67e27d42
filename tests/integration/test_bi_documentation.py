"""The published marts document themselves wherever they are read, after a real `qiangji run`.

- SQLAlchemy with duckdb-engine, as Superset connects (`duckdb:///…/marts.duckdb`, read-only): the
  inspector's table comments, and the column comments as SQL clients read them from
  `information_schema.columns` (see `test_the_inspector_reflects_column_comments` for the inspector's
  own `get_columns`);
- pyarrow: the field metadata `description` of every Parquet column, the table's in the schema's;
- the Chinese CSVs: their headers are the Chinese labels;
- the dbt docs site: renders in headless chromium with no network and shows the models, and carries
  no data values.

Every published table and column is expected to carry its `<中文标签> / <English description>`.
"""

from __future__ import annotations

import csv
import re
import shutil
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from orchestration.docs_site import DIGEST_FILE, build_docs_site, docs_site_path
from tests.integration.test_dashboard import CHROMIUM, chromium, requires_chromium
from warehouse.publish import PUBLISHED_MODELS, chinese_label

DESCRIBED = re.compile(r"[^/\n]*[\u3400-\u9fff][^/\n]*? / \S.*", re.DOTALL)
PUBLISHED_TABLES = [*PUBLISHED_MODELS, "audit_check_results"]


@pytest.fixture(scope="module")
def published(pipeline_home: Path) -> Path:
    return pipeline_home / "published"


@pytest.fixture(scope="module")
def engine(published: Path):
    engine = sa.create_engine(
        f"duckdb:///{published / 'marts.duckdb'}",
        connect_args={"read_only": True},
        poolclass=sa.pool.NullPool,
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def comments(published: Path) -> dict[str, tuple[str | None, dict[str, str | None]]]:
    """Every published table's comment and its columns' comments, from DuckDB's own catalog."""
    with duckdb.connect(str(published / "marts.duckdb"), read_only=True) as con:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns()"
            " WHERE database_name = current_database() ORDER BY table_name, column_index"
        ).fetchall()
    found: dict[str, tuple[str | None, dict[str, str | None]]] = {t: (c, {}) for t, c in tables.items()}
    for table, column, comment in columns:
        found[table][1][column] = comment
    return found


def test_every_published_table_and_column_has_its_chinese_description(comments):
    assert set(comments) == set(PUBLISHED_TABLES)
    undocumented = [
        f"{table}.{column}"
        for table, (table_comment, columns) in comments.items()
        for column, comment in {"(table)": table_comment, **columns}.items()
        if not (comment and DESCRIBED.fullmatch(comment))
    ]
    assert not undocumented


def test_sqlalchemy_reads_the_table_comments(engine, comments):
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) == set(PUBLISHED_TABLES)
    for table in PUBLISHED_TABLES:
        assert inspector.get_table_comment(table) == {"text": comments[table][0]}
    assert inspector.get_table_comment("dim_district")["text"].startswith("填报单位 / ")


def test_sql_clients_read_the_column_comments(engine, comments):
    # what a SQL client's schema browser asks (Superset's SQL Lab, DBeaver, Metabase's DuckDB driver)
    with engine.connect() as session:
        rows = session.execute(
            sa.text("SELECT table_name, column_name, COLUMN_COMMENT FROM information_schema.columns")
        ).fetchall()
    seen: dict[str, dict[str, str | None]] = {}
    for table, column, comment in rows:
        seen.setdefault(table, {})[column] = comment
    assert seen == {table: columns for table, (_, columns) in comments.items()}
    assert seen["dim_district"]["kind"].startswith("单位类型 / ")


# SQLAlchemy >= 2.0.45 reflects a column's collation through pg_catalog.pg_collation joined to
# pg_namespace on `collnamespace`; DuckDB's pg_catalog emulation has no such column, and
# duckdb-engine 0.17 passes SQLAlchemy's query on unchanged: every `get_columns` fails (duckdb-engine
# #1379, #1391, fix proposed in #1393; duckdb #22069). pyproject.toml caps SQLAlchemy below 2.0.45
# so that Superset's way of listing a dataset's columns works; this test is what says so.
def test_the_inspector_reflects_column_comments(engine, comments):
    inspector = sa.inspect(engine)
    reflected = {table: inspector.get_columns(table) for table in PUBLISHED_TABLES}
    for table, columns in reflected.items():
        assert {c["name"]: c["comment"] for c in columns} == comments[table][1]
    assert reflected["dim_district"][0]["comment"].split(" / ")[0]  # a Chinese label first


def test_every_parquet_column_carries_its_description(published: Path, comments):
    for table in PUBLISHED_TABLES:
        schema = pq.read_schema(published / "parquet" / f"{table}.parquet")
        table_comment, columns = comments[table]
        assert schema.metadata[b"description"].decode() == table_comment
        assert {f.name: f.metadata[b"description"].decode() for f in schema} == columns


def test_the_chinese_csvs_are_headed_by_the_chinese_labels(published: Path, comments):
    marts = [t for t in PUBLISHED_TABLES if t.startswith("mart_")]
    assert sorted(p.stem for p in (published / "csv" / "zh").glob("*.csv")) == sorted(marts)
    for table in marts:
        zh = (published / "csv" / "zh" / f"{table}.csv").read_bytes()
        en = (published / "csv" / f"{table}.csv").read_bytes()
        assert zh.startswith(b"\xef\xbb\xbf")
        zh_rows = list(csv.reader(zh.decode("utf-8-sig").splitlines()))
        en_rows = list(csv.reader(en.decode("utf-8-sig").splitlines()))
        columns = comments[table][1]
        assert en_rows[0] == list(columns)
        assert zh_rows[0] == [chinese_label(comment, name) for name, comment in columns.items()]
        assert all(re.search(r"[\u3400-\u9fff]", header) for header in zh_rows[0])
        assert zh_rows[1:] == en_rows[1:]


def test_the_run_published_the_docs_site_once(pipeline_home: Path, published: Path, tmp_path: Path):
    site = docs_site_path(published)
    assert site.is_file() and site.with_name(DIGEST_FILE).is_file()
    assert site.stat().st_mode & 0o777 == 0o640
    warehouse = pipeline_home / "warehouse.duckdb"
    # the same manifest: not regenerated, the page untouched
    before = site.stat().st_mtime_ns
    again = build_docs_site(warehouse, published)
    assert not again.regenerated and not again.ran_dbt and site.stat().st_mtime_ns == before
    # a home without a site gets the page this manifest's first generation left in the project's cache
    other = tmp_path / "published"
    copied = build_docs_site(warehouse, other)
    assert copied.regenerated and not copied.ran_dbt
    assert docs_site_path(other).read_bytes() == site.read_bytes()
    # forced: dbt runs
    started = time.perf_counter()
    generated = build_docs_site(warehouse, tmp_path / "forced", force=True)
    assert generated.ran_dbt and docs_site_path(tmp_path / "forced").is_file()
    print(
        f"dbt docs generate --static: {generated.seconds:.1f} s, {site.stat().st_size / 1e6:.1f} MB;"
        f" the forced call {time.perf_counter() - started:.1f} s"
    )


def test_the_docs_site_carries_no_data_values(pipeline_home: Path, published: Path):
    page = docs_site_path(published).read_text(encoding="utf-8")
    with duckdb.connect(str(published / "marts.duckdb"), read_only=True) as con:
        # values only the data holds (the dbt unit tests' fixtures, in the manifest, are made up):
        # submission ids (a hash of the file's bytes), run ids, masked problem values
        values = [
            value
            for (value,) in con.execute(
                "SELECT current_submission_id FROM mart_submission_status"
                " WHERE current_submission_id IS NOT NULL"
                " UNION SELECT run_id FROM audit_check_results"
                " UNION SELECT masked_value FROM audit_submission_problems WHERE length(masked_value) > 6"
            ).fetchall()
        ]
    assert len(values) > 10
    leaked = [value for value in values if value in page]
    assert not leaked, leaked[:5]
    # dbt's catalog for DuckDB: column types, and no statistics or sample rows
    assert '"has_stats", "label": "Has Stats?", "value": false' in page
    assert (
        '"value": true, "include": true, "description": "Indicates whether there are statistics' not in page
    )


@pytest.fixture(scope="module")
def rendered(published: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH")
    profile = tmp_path_factory.mktemp("chromium")
    copy = profile / "index.html"
    shutil.copyfile(docs_site_path(published), copy)
    result = chromium(
        profile / "profile", "--dump-dom", copy.as_uri() + "#!/model/model.qiangji.dim_district"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # what the page shows: its DOM without the scripts (which hold the manifest and catalog inlined)
    return re.sub(r"<script\b[^>]*>.*?</script>", "", result.stdout, flags=re.DOTALL)


@requires_chromium
def test_the_docs_site_renders_offline(rendered: str):
    # chromium resolves no name (FLAGS: --host-resolver-rules), so a font from a CDN is missing and
    # nothing else: the page is the app, the manifest and the catalog inlined
    assert re.search(r'class="[^"]*ng-binding[^"]*">\s*dim_district\s*<', rendered)  # rendered by the app
    assert "填报单位 / Reporting units" in rendered  # the model's description
    assert re.search(r">单位类型 / district, county[^<]*</span>", rendered)  # the column table of its page
    assert "attainment_dashboard" in rendered  # the exposures in the navigation
