"""Publishing: atomic replacement, Parquet and CSV outputs, formula injection neutralized."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.publish import neutralize_formulas, publish_marts


def _warehouse(path, label: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE mart_x AS SELECT * FROM"
            " (VALUES ('=HYPERLINK(1)', 1, ?), ('天津', -2, ?)) t(name, n, label)",
            [label, label],
        )
        con.execute("CREATE OR REPLACE TABLE dim_y AS SELECT 1 AS id")


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
