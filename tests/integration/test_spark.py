"""Scale-out: the same dbt project builds and tests on Spark, and its marts equal DuckDB's row for row.

A local Spark session (dbt-spark's session method, pyspark's jars on the machine's Java) builds from
the Parquet export of the raw tables; DuckDB builds from the warehouse. Then one reporting unit
resubmits a period and both build again, Spark incrementally (insert_overwrite of its period).
Needs the `spark` extra (`make test` installs it); without it the module is skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="the spark extra is not installed: pip install -e '.[spark]'")
pytest.importorskip(
    "dbt.adapters.spark", reason="the spark extra is not installed: pip install -e '.[spark]'"
)

from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.warehouse_builds import (
    dbt,
    duckdb_columns,
    duckdb_rows,
    generate_small_landing,
    ingest,
    ingest_folder,
    java_missing,
    spark_rows,
)
from warehouse.export import export_raw_parquet

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(java_missing(), reason="Spark needs Java (17): no java on PATH and no JAVA_HOME"),
]

ATTAINMENT = "mart_target_attainment"
OTHER_TABLES = [
    # the seeds as loaded (dbt-spark's own seed loader wrote empty cells as the string 'None')
    "reporting_units",
    "targets",
    "periods",
    "code_values",
    "code_synonyms",
    "gap_reasons",
    "dim_district",
    "dim_target",
    "mart_target_attainment_current_districts",
    "mart_target_gaps",
    "mart_organization_coverage",
    "mart_member_development",
    "mart_cadre_training",
    "mart_cross_district_duplicates",
]
# no member registered in two of these units: the mart is empty on both, and compared all the same
EMPTY_HERE = {"mart_cross_district_duplicates"}
FACTS = ["fct_unit_snapshot", "fct_member_snapshot", "fct_admission", "fct_training_attendance"]


def _both(home: Path, table: str) -> tuple[list[tuple], list[tuple]]:
    columns = duckdb_columns(home, table)
    return duckdb_rows(home, table, columns), spark_rows(home, table, columns)


@pytest.fixture(scope="module")
def scale_out_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both targets built (models, seeds, data and unit tests) from the same submissions."""
    home = tmp_path_factory.mktemp("scale_out")
    landing = generate_small_landing(home / "landing")
    assert set(ingest_folder(home, landing)) == {"accepted"}
    export_raw_parquet(home / "warehouse.duckdb", home / "raw_parquet")
    seconds = {"duckdb": dbt(home, "build"), "spark": dbt(home, "build", target="spark")}
    (home / "build_seconds.txt").write_text(f"{seconds}\n")
    return home


def _partition_files(home: Path, table: str) -> dict[str, list[str]]:
    """The data files of each partition of a Spark table: an overwritten partition gets new ones."""
    folder = home / "spark" / "warehouse" / "qiangji.db" / table
    return {p.name: sorted(f.name for f in p.glob("*.parquet")) for p in folder.glob("period=*")}


@pytest.fixture(scope="module")
def resubmitted(scale_out_home: Path) -> tuple[Path, dict[str, set[str]]]:
    """南开区 resubmits 2010H1 (no 培训 rows at all); both targets build again, Spark incrementally.
    Also: the partitions of each fact the Spark run rewrote."""
    before = {t: _partition_files(scale_out_home, t) for t in FACTS}
    sheets = minimal_sheets("120104", "2010H1")
    sheets["培训"] = []
    assert ingest(scale_out_home, write_xlsx(scale_out_home / "120104_2010H1_v2.xlsx", sheets)) == [
        "accepted"
    ]
    export_raw_parquet(scale_out_home / "warehouse.duckdb", scale_out_home / "raw_parquet")
    # what the attainment mart needs: every fact, the dimensions and the target metrics
    dbt(scale_out_home, "run", "--select", "+mart_target_attainment")
    dbt(scale_out_home, "run", "--select", "+mart_target_attainment", target="spark")
    after = {t: _partition_files(scale_out_home, t) for t in FACTS}
    rewritten = {t: {p for p in before[t].keys() | after[t].keys() if before[t].get(p) != after[t].get(p)}
                 for t in FACTS}  # fmt: skip
    return scale_out_home, rewritten


def test_spark_and_duckdb_agree_on_every_attainment_row(scale_out_home: Path):
    duck, spark = _both(scale_out_home, ATTAINMENT)
    assert len(duck) > 500  # 26 targets × 5 units and the city × 4 periods, less the yearly H1 rows
    assert {row[-2] for row in duck} >= {"achieved", "no_data"}  # status: more than one kind
    assert spark == duck


@pytest.mark.parametrize("table", OTHER_TABLES)
def test_spark_and_duckdb_agree_on_seeds_dimensions_and_other_marts(scale_out_home: Path, table: str):
    duck, spark = _both(scale_out_home, table)
    assert spark == duck
    assert bool(duck) != (table in EMPTY_HERE)


def test_after_a_resubmission_spark_incremental_equals_duckdb(resubmitted):
    home, _ = resubmitted
    compiled = home / "dbt-spark" / "run" / "qiangji" / "models" / "core"
    assert "insert overwrite table" in (compiled / "fct_member_snapshot.sql").read_text()
    for table in [ATTAINMENT, *FACTS]:
        duck, spark = _both(home, table)
        assert spark == duck, table
    resubmitted_rows = [r for r in duckdb_rows(home, "fct_unit_snapshot", ["district_code", "period"])
                        if r == ("120104", "2010H1")]  # fmt: skip
    assert len(resubmitted_rows) == 4  # the new version's 单位 rows only


def test_spark_rewrote_only_the_resubmitted_period(resubmitted):
    _, rewritten = resubmitted
    assert rewritten == {t: {"period=2010H1"} for t in FACTS}
