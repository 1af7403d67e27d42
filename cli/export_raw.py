"""`qiangji export-raw`: the raw tables as Parquet, for the dbt project's Spark target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import HomeOption, console, fail
from cli.exit_codes import ExitCode
from warehouse.layout import HomeLayout


def export_raw(
    home: HomeOption = Path("data"),
    out: Annotated[
        Path | None,
        typer.Option("--out", show_default="<home>/raw_parquet", help="folder for the Parquet files"),
    ] = None,
) -> None:
    """Write the warehouse's raw tables as Parquet, for the dbt project's Spark target.

    Exits 2 when the home has no warehouse. (--out does not read QIANGJI_RAW_PARQUET: that names
    where the cluster reads them, which may be a URI this machine cannot write.)"""
    from warehouse.export import export_raw_parquet

    layout = HomeLayout(home)  # relative, as the user gave it: the message names it so
    if not layout.warehouse.exists():
        fail(f"no warehouse at {layout.warehouse}: run `qiangji run --home {home}` first", ExitCode.USAGE)
    target = (out or layout.raw_parquet).resolve()
    summary = export_raw_parquet(layout.warehouse, target)
    written = sum(summary.written.values())
    removed = sum(summary.removed.values())
    console.print(f"raw tables: {written} files written, {removed} removed, in {target}", markup=False)
    console.print(f"for dbt on Spark: QIANGJI_RAW_PARQUET={target}", markup=False)
