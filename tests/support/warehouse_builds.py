"""A small generated warehouse and real dbt builds of it, on DuckDB and on Spark.

Shared by the incremental and the Spark tests: a few reporting units (with the 2010 merger of
塘沽 into 滨海新区) over 2009H1-2010H2, ingested by the library (no Dagster run needed), built by the
venv's dbt with its own target folder so the project's manifest is left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb

from ingest.pipeline import ingest_landing, list_landing
from tests.support.cli import ROOT, TEST_KEY

DBT_PROJECT = ROOT / "dbt_project"
DBT = str(Path(sys.executable).with_name("dbt"))
KEY = TEST_KEY.encode()
UNITS = ("120101", "120104", "120107", "120116", "XT01")  # 120107 塘沽 → 120116 滨海新区 in 2010
PERIODS = "2009H1-2010H2"


def generate_small_landing(landing: Path) -> Path:
    """Generated submissions of UNITS only (every unit of the city would make Spark slow)."""
    subprocess.run(
        [str(Path(sys.executable).with_name("qiangji")), "generate", "--out", str(landing),
         "--periods", PERIODS, "--scale", "0.002", "--seed", "11"],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    for path in landing.glob("*.xlsx"):
        if not path.name.startswith(UNITS):
            path.unlink()
    return landing


def ingest(home: Path, *paths: Path) -> list[str]:
    outcomes = ingest_landing(list(paths), home / "warehouse.duckdb", home / "archive", KEY)
    return [o.status for o in outcomes]


def ingest_folder(home: Path, landing: Path) -> list[str]:
    return ingest(home, *list_landing(landing))


def dbt(home: Path, *args: str, target: str = "duckdb") -> float:
    """Run dbt on the project for `home`; its wall time in seconds. Fails with dbt's output."""
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "QIANGJI_WAREHOUSE": str(home / "warehouse.duckdb"),
        "QIANGJI_RAW_PARQUET": str(home / "raw_parquet"),
        "QIANGJI_SPARK_HOME": str(home / "spark"),
        "QIANGJI_DBT_TARGET": target,
    }
    command = [DBT, *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
               "--target-path", str(home / f"dbt-{target}"), "--log-path", str(home / "logs")]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=DBT_PROJECT)
    elapsed = time.perf_counter() - started
    (home / "logs").mkdir(exist_ok=True)
    with open(home / "logs" / f"dbt-{target}.out", "a") as log:
        log.write(f"$ dbt {' '.join(args)}  ({elapsed:.1f} s, exit {result.returncode})\n{result.stdout}\n")
    if result.returncode != 0:
        failed = [line for line in result.stdout.splitlines() if "ERROR" in line or "FAIL" in line]
        raise AssertionError(f"dbt {' '.join(args)} on {target} failed:\n" + "\n".join(failed[-30:]))
    return elapsed


def java_missing() -> bool:
    return shutil.which("java") is None and not os.environ.get("JAVA_HOME")


# --- reading the built tables -------------------------------------------------------------------


def _normalized(value: object) -> object:
    # doubles: the engines may differ in the last bits of a sum or a quotient, nowhere else
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _rows(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(columns)
    rows = con.execute(f"SELECT {listed} FROM {relation}").fetchall()
    normalized = [tuple(_normalized(v) for v in row) for row in rows]
    return sorted(normalized, key=lambda row: tuple((v is None, str(v)) for v in row))


def duckdb_columns(home: Path, table: str) -> list[str]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return [r[0] for r in con.execute(f"DESCRIBE main.{table}").fetchall()]


def duckdb_rows(home: Path, table: str, columns: list[str]) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return _rows(con, f"main.{table}", columns)


def spark_rows(home: Path, table: str, columns: list[str]) -> list[tuple]:
    """The rows of a table Spark wrote: its Parquet files (partition folders included)."""
    folder = home / "spark" / "warehouse" / "qiangji.db" / table
    assert folder.is_dir(), f"Spark has no table {table} in {folder}"
    files = sorted(str(p) for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:  # an empty table may have no data file at all
        return []
    with duckdb.connect() as con:
        listed = ", ".join(f"'{f}'" for f in files)
        return _rows(con, f"read_parquet([{listed}], hive_partitioning = true)", columns)
