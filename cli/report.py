"""`qiangji report`: target attainment per reporting unit for one period, from the published marts."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.console import HomeOption, console, fail
from cli.exit_codes import ExitCode
from warehouse.layout import HomeLayout


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    html = "html"


def report(
    home: HomeOption = Path("data"),
    period: Annotated[
        str | None,
        typer.Option("--period", show_default="the latest period with data", help="e.g. 2008H2"),
    ] = None,
    district: Annotated[
        str | None,
        typer.Option(
            "--district", show_default="every unit and the city", help="a reporting unit's code or name"
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format", help="table (colored statuses), csv and json print the rows; html the dashboard"
        ),
    ] = ReportFormat.table,
) -> None:
    """Target attainment per reporting unit for one period, from the published marts.

    table (colored statuses), csv and json print the rows; html writes or refreshes the dashboard
    <home>/published/dashboard.html and prints its path. Exits 2 when there are no published marts
    yet or the period or unit is unknown.
    """
    from reporting.report import ReportError, attainment_report, format_csv, format_json, render_table

    layout = HomeLayout(home)  # relative, as the user gave it: the messages name it so
    published = layout.published_database
    if not published.is_file():
        fail(f"no published marts at {published}: run `qiangji run --home {home}` first", ExitCode.USAGE)
    try:
        result = attainment_report(published, period=period, district=district)
    except ReportError as exc:
        fail(str(exc), ExitCode.USAGE)
    if output_format is ReportFormat.html:
        from reporting.dashboard import build_dashboard

        out = build_dashboard(published, layout.dashboard, period=period)
        anchor = f"#d-{result.district}" if result.district else ""
        print(out.resolve())
        if anchor:
            print(out.resolve().as_uri() + anchor)
    elif output_format is ReportFormat.csv:
        sys.stdout.write(format_csv(result.rows))
    elif output_format is ReportFormat.json:
        print(format_json(result.rows))
    else:
        console.print(render_table(result))
