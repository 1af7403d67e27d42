"""`qiangji export-raw`: the raw tables as Parquet, for the dbt project's Spark target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import HomeOption, console, err
from warehouse.layout import HomeLayout


def export_raw(
    home: HomeOption = Path("data"),
    out: Annotated[
        Path | None, typer.Option("--out", help="folder for the Parquet files [<home>/raw_parquet]")
    ] = None,
) -> None:
    """Write the warehouse's raw tables as Parquet, for the dbt project's Spark target."""
    from warehouse.export import export_raw_parquet

    layout = HomeLayout(home)  # relative, as the user gave it: the message names it so
    if not layout.warehouse.exists():
        err.print(f"[red]no warehouse[/red] at {layout.warehouse}: run `qiangji run --home {home}` first")
        raise typer.Exit(2)
    target = (out or layout.raw_parquet).resolve()
    summary = export_raw_parquet(layout.warehouse, target)
    written = sum(summary.written.values())
    removed = sum(summary.removed.values())
    console.print(f"raw tables: {written} files written, {removed} removed, in {target}")
    console.print(f"for dbt on Spark: QIANGJI_RAW_PARQUET={target}")
