"""Publishing: atomic replacement, Parquet and CSV outputs, formula injection neutralized, modes, and the
documentation (comments, Parquet field metadata, Chinese CSV headers) carried into every output."""

from __future__ import annotations

import os
import stat

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from warehouse.publish import (
    PUBLISHED_MODE_ENV,
    PublishedColumn,
    PublishedMode,
    PublishedModeError,
    PublishedTable,
    apply_published_mode,
    chinese_label,
    neutralize_formulas,
    publish_marts,
)


def _warehouse(path, label: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE mart_x AS SELECT * FROM"
            " (VALUES ('=HYPERLINK(1)', 1, ?), ('天津', -2, ?)) t(name, n, label)",
            [label, label],
        )
        con.execute("CREATE OR REPLACE TABLE dim_y AS SELECT 1 AS id")
        # what dbt's persist_docs leaves on the warehouse's tables (label is left without a comment)
        con.execute("COMMENT ON TABLE mart_x IS '甲集市 / The x''s mart'")
        con.execute("COMMENT ON COLUMN mart_x.name IS '名称 / The name'")
        con.execute("COMMENT ON COLUMN mart_x.n IS '数量 / A number'")
        con.execute("COMMENT ON COLUMN dim_y.id IS '编号 / Id'")


def test_formulas_are_neutralized_only_in_text():
    frame = pl.DataFrame({"t": ["=1+1", "+a", "-b", "@c", "ok", None], "n": [-1, 2, 3, 4, 5, 6]})
    out = neutralize_formulas(frame)
    assert out["t"].to_list() == ["'=1+1", "'+a", "'-b", "'@c", "ok", None]
    assert out["n"].to_list() == frame["n"].to_list()


def test_publication_outputs(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    pub = publish_marts(warehouse, tmp_path / "published", ["mart_x", "dim_y"])
    assert pub.rows == {"mart_x": 2, "dim_y": 1}
    csv = (tmp_path / "published" / "csv" / "mart_x.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Chinese Excel
    assert "'=HYPERLINK(1)" in csv.decode("utf-8-sig") and "天津" in csv.decode("utf-8-sig")
    assert not (tmp_path / "published" / "csv" / "dim_y.csv").exists()  # CSVs are for marts
    assert pl.read_parquet(tmp_path / "published" / "parquet" / "dim_y.parquet")["id"].to_list() == [1]
    assert not list((tmp_path / "published").rglob("*.partial"))


def test_a_reader_of_the_old_publication_is_not_disturbed(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    publish_marts(warehouse, tmp_path / "published", ["mart_x"])
    reader = duckdb.connect(str(tmp_path / "published" / "marts.duckdb"), read_only=True)
    _warehouse(warehouse, "second")
    publish_marts(warehouse, tmp_path / "published", ["mart_x"])
    assert reader.execute("SELECT DISTINCT label FROM mart_x").fetchall() == [("first",)]
    reader.close()
    with duckdb.connect(str(tmp_path / "published" / "marts.duckdb"), read_only=True) as con:
        assert con.execute("SELECT DISTINCT label FROM mart_x").fetchall() == [("second",)]


def test_a_failed_publication_leaves_the_last_good_one(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    publish_marts(warehouse, tmp_path / "published", ["mart_x"])
    before = (tmp_path / "published" / "marts.duckdb").read_bytes()
    try:
        publish_marts(warehouse, tmp_path / "published", ["mart_x", "no_such_table"])
    except duckdb.CatalogException:
        pass
    else:
        raise AssertionError("publishing a missing table must fail")
    assert (tmp_path / "published" / "marts.duckdb").read_bytes() == before
    assert not list((tmp_path / "published").rglob("*.partial"))


def test_the_comments_are_published_with_the_tables(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA audit")
        con.execute("CREATE TABLE audit.checks AS SELECT 1 AS passed")
        con.execute("COMMENT ON TABLE audit.checks IS '检查 / Checks'")
        con.execute("COMMENT ON COLUMN audit.checks.passed IS '通过 / Passed'")
    pub = publish_marts(warehouse, tmp_path / "published", ["mart_x", "dim_y", "audit.checks"])
    with duckdb.connect(str(pub.database), read_only=True) as con:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
            " ORDER BY table_name, column_index"
        ).fetchall()
    assert tables == {"mart_x": "甲集市 / The x's mart", "dim_y": None, "checks": "检查 / Checks"}
    assert columns == [
        ("checks", "passed", "通过 / Passed"),
        ("dim_y", "id", "编号 / Id"),
        ("mart_x", "name", "名称 / The name"),
        ("mart_x", "n", "数量 / A number"),
        ("mart_x", "label", None),
    ]
    assert pub.tables["mart_x"] == PublishedTable(
        "mart_x",
        2,
        "甲集市 / The x's mart",
        (
            PublishedColumn("name", "VARCHAR", "名称 / The name"),
            PublishedColumn("n", "INTEGER", "数量 / A number"),
            PublishedColumn("label", "VARCHAR", None),
        ),
    )
    assert pub.rows == {name: table.rows for name, table in pub.tables.items()}


def test_parquet_fields_carry_their_comments(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    publish_marts(warehouse, tmp_path / "published", ["mart_x", "dim_y"])
    schema = pq.read_schema(tmp_path / "published" / "parquet" / "mart_x.parquet")
    assert schema.metadata[b"description"].decode() == "甲集市 / The x's mart"
    assert schema.field("name").metadata == {b"description": "名称 / The name".encode()}
    assert schema.field("n").metadata == {b"description": "数量 / A number".encode()}
    assert not schema.field("label").metadata
    assert b"description" not in (
        pq.read_schema(tmp_path / "published" / "parquet" / "dim_y.parquet").metadata or {}
    )
    assert pl.read_parquet(tmp_path / "published" / "parquet" / "mart_x.parquet")["n"].to_list() == [1, -2]


def test_the_chinese_csv_has_the_chinese_labels_as_headers(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    pub = publish_marts(warehouse, tmp_path / "published", ["mart_x", "dim_y"])
    assert pub.csv_zh == [tmp_path / "published" / "csv" / "zh" / "mart_x.csv"]
    raw = pub.csv_zh[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "名称,数量,label"  # a column without a comment keeps its name
    assert (
        lines[1:]
        == (tmp_path / "published" / "csv" / "mart_x.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    )
    assert lines[1].startswith("'=HYPERLINK(1)")  # formulas neutralized as in the English CSV


def test_chinese_labels():
    assert chinese_label("填报单位代码 / GB/T 2260 code", "x") == "填报单位代码"
    assert chinese_label("no label here", "x") == "x"
    assert chinese_label(None, "x") == "x"
    table = PublishedTable(
        "t",
        0,
        None,
        (PublishedColumn("a", "VARCHAR", "名称 / A"), PublishedColumn("b", "VARCHAR", "名称 / B")),
    )
    assert table.chinese_headers == ["名称（a）", "名称（b）"]  # never two columns under one header


def _modes(root) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def test_the_publication_has_the_published_mode_whatever_the_umask(tmp_path, monkeypatch):
    monkeypatch.delenv(PUBLISHED_MODE_ENV, raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    previous = os.umask(0o077)  # what `qiangji run` sets: without the published mode, all 0600
    try:
        publish_marts(warehouse, tmp_path / "published", ["mart_x", "dim_y"])
    finally:
        os.umask(previous)
    modes = _modes(tmp_path / "published")
    assert {k: v for k, v in modes.items() if (tmp_path / "published" / k).is_dir()} == {
        ".": 0o750,
        "parquet": 0o750,
        "csv": 0o750,
        "csv/zh": 0o750,
    }
    files = {k: v for k, v in modes.items() if (tmp_path / "published" / k).is_file()}
    assert set(files) == {
        "marts.duckdb",
        "parquet/mart_x.parquet",
        "parquet/dim_y.parquet",
        "csv/mart_x.csv",
        "csv/zh/mart_x.csv",
    }
    assert set(files.values()) == {0o640}


def test_the_published_mode_is_configurable_and_reapplied(tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    published = tmp_path / "published"
    publish_marts(warehouse, published, ["mart_x"])
    (published / "dashboard.html").write_text("<html></html>")  # written by reporting, not here
    os.chmod(published / "dashboard.html", 0o644)
    monkeypatch.setenv(PUBLISHED_MODE_ENV, "0700")
    publish_marts(warehouse, published, ["mart_x"])
    assert stat.S_IMODE((published / "marts.duckdb").stat().st_mode) == 0o600
    assert stat.S_IMODE((published / "dashboard.html").stat().st_mode) == 0o644
    apply_published_mode(published)
    assert set(_modes(published).values()) == {0o700, 0o600}


def test_the_setgid_bit_of_a_published_folder_is_kept(tmp_path, monkeypatch):
    # a BI readers' group: `chgrp bi published && chmod g+s published` (docs/security.md)
    monkeypatch.delenv(PUBLISHED_MODE_ENV, raising=False)
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, "first")
    published = tmp_path / "published"
    published.mkdir()
    os.chmod(published, 0o2750)
    publish_marts(warehouse, published, ["mart_x"])
    assert stat.S_IMODE(published.stat().st_mode) == 0o2750
    assert stat.S_IMODE((published / "marts.duckdb").stat().st_mode) == 0o640
    assert PublishedMode.from_env() == PublishedMode(0o750)
    monkeypatch.setenv(PUBLISHED_MODE_ENV, "2750")
    assert PublishedMode.from_env().folders == 0o2750 and PublishedMode.from_env().files == 0o640


@pytest.mark.parametrize("value", ["0770", "0757", "0650", "0640", "abc", "0o17777", "rwxr-x---"])
def test_a_published_mode_that_lets_others_write_or_locks_out_the_owner_is_refused(monkeypatch, value):
    monkeypatch.setenv(PUBLISHED_MODE_ENV, value)
    with pytest.raises(PublishedModeError, match=PUBLISHED_MODE_ENV):
        PublishedMode.from_env()


@pytest.mark.parametrize(
    ("value", "folders"), [("0750", 0o750), ("755", 0o755), ("0o700", 0o700), (" ", 0o750)]
)
def test_published_modes_accepted(monkeypatch, value, folders):
    monkeypatch.setenv(PUBLISHED_MODE_ENV, value)
    assert PublishedMode.from_env().folders == folders
