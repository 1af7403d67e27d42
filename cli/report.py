"""`qiangji report`: target attainment per reporting unit for one period, from the published marts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.console import HomeOption, console, err
from warehouse.layout import HomeLayout


def report(
    home: HomeOption = Path("data"),
    period: Annotated[
        str | None, typer.Option("--period", help="e.g. 2008H2 [the latest period with data]")
    ] = None,
    district: Annotated[
        str | None,
        typer.Option("--district", help="a reporting unit's code or name [every unit and the city]"),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv, json or html")] = "table",
) -> None:
    """Target attainment per reporting unit for one period, from the published marts.

    table (colored statuses), csv and json print the rows; html writes or refreshes the dashboard
    <home>/published/dashboard.html and prints its path.
    """
    from reporting.report import ReportError, attainment_report, format_csv, format_json, render_table

    if output_format not in ("table", "csv", "json", "html"):
        err.print("--format must be table, csv, json or html")
        raise typer.Exit(2)
    layout = HomeLayout(home)  # relative, as the user gave it: the messages name it so
    published = layout.published_database
    if not published.is_file():
        err.print(f"[red]no published marts[/red] at {published}: run `qiangji run --home {home}` first")
        raise typer.Exit(1)
    try:
        result = attainment_report(published, period=period, district=district)
    except ReportError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    if output_format == "html":
        from reporting.dashboard import build_dashboard

        out = build_dashboard(published, layout.dashboard, period=period)
        anchor = f"#d-{result.district}" if result.district else ""
        print(out.resolve())
        if anchor:
            print(out.resolve().as_uri() + anchor)
    elif output_format == "csv":
        sys.stdout.write(format_csv(result.rows))
    elif output_format == "json":
        print(format_json(result.rows))
    else:
        console.print(render_table(result))
