"""`qiangji-dbt`: dbt started in the warehouse's folder, which it names by its file name alone.

dbt's partial parse serves only the profile it was made with, and the warehouse's path is part of
the profile (`dbt.parser.manifest`: "Unable to do partial parsing because profile has changed").
Named by its absolute path, every home's warehouse made its first build parse the whole project
(≈ 6 s of a small run; every test's home, every benchmark run). Started in the warehouse's folder,
every home's warehouse is the same `warehouse.duckdb` to dbt, and the project's parse (`qiangji
prepare`, made with that name: `orchestration.project.ParsePreparer`) serves all of them.

Only the DuckDB target: the Spark target names no warehouse file, and its own paths are relative to
the project. dagster-dbt hands dbt its project, profiles and target folders as absolute paths.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _target(argv: Sequence[str]) -> str:
    for flag in ("--target", "-t"):
        if flag in argv[:-1]:
            return argv[list(argv).index(flag) + 1]
    return os.environ.get("QIANGJI_DBT_TARGET", "duckdb")


def enter_warehouse_folder(argv: Sequence[str]) -> None:
    """Change to the folder of the warehouse `QIANGJI_WAREHOUSE` names and name it by its file name
    (a relative name is the one dbt would have opened: relative to where dbt was started)."""
    warehouse = os.environ.get("QIANGJI_WAREHOUSE")
    if not warehouse or _target(argv) != "duckdb":
        return
    path = Path(warehouse).absolute()
    if not path.parent.is_dir():
        return  # dbt says what is wrong with the path, as it would have
    os.chdir(path.parent)
    os.environ["QIANGJI_WAREHOUSE"] = path.name


def main() -> None:
    enter_warehouse_folder(sys.argv[1:])
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())
