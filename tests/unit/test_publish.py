"""Publishing: atomic replacement, Parquet and CSV outputs, formula injection neutralized, modes."""

from __future__ import annotations

import os
import stat

import duckdb
import polars as pl
import pytest

from warehouse.publish import (
    PUBLISHED_MODE_ENV,
    PublishedMode,
    PublishedModeError,
    apply_published_mode,
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
    }
    files = {k: v for k, v in modes.items() if (tmp_path / "published" / k).is_file()}
    assert set(files) == {"marts.duckdb", "parquet/mart_x.parquet", "parquet/dim_y.parquet", "csv/mart_x.csv"}
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
