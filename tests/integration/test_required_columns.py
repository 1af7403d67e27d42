"""A model's required columns are one dbt test, `<model>_not_null` (the `not_null_columns` generic
test, dbt_project/macros/test_not_null_columns.sql): it passes on filled columns and fails, with the
empty column named in its failing rows, on a row where one of them is empty — checked by real dbt
runs of `stg_submissions` over a warehouse with one loaded submission."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.warehouse_builds import dbt, ingest


def _results(home: Path) -> dict[str, tuple[str, int]]:
    results = json.loads((home / "dbt-duckdb" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results}


def test_one_test_per_model_finds_the_empty_required_column(tmp_path: Path):
    (tmp_path / "landing").mkdir()
    book = write_xlsx(tmp_path / "landing" / "120104_2007H1.xlsx", minimal_sheets("120104", "2007H1"))
    assert ingest(tmp_path, book) == ["accepted"]
    dbt(tmp_path, "build", "--select", "stg_submissions")
    assert _results(tmp_path)["stg_submissions_not_null"] == ("pass", 0)

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("UPDATE raw.submissions SET status = NULL")
    with pytest.raises(AssertionError, match="stg_submissions_not_null"):
        dbt(tmp_path, "test", "--select", "stg_submissions_not_null", "--store-failures")
    assert _results(tmp_path)["stg_submissions_not_null"] == ("fail", 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        [schema] = con.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'stg_submissions_not_null'"
        ).fetchone()
        failing = con.execute(f"SELECT empty_column FROM {schema}.stg_submissions_not_null").fetchall()
    assert failing == [("status",)]
