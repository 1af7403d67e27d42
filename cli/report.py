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
    xlsx = "xlsx"


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
            "--format",
            help="table (colored statuses), csv and json print the rows; html the dashboard; "
            "xlsx (with --gaps) writes a workbook",
        ),
    ] = ReportFormat.table,
    gaps: Annotated[
        bool,
        typer.Option(
            "--gaps",
            help="the gap list (缺口清单) instead: each unit or organization that counts in a target's "
            "denominator but not its numerator, and why",
        ),
    ] = False,
    target: Annotated[
        str | None,
        typer.Option("--target", show_default="every target", help="with --gaps: one target, e.g. npe50_org"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", show_default="gaps_<unit>_<period>.xlsx", help="with --format xlsx: where"),
    ] = None,
) -> None:
    """Target attainment per reporting unit for one period, from the published marts.

    table (colored statuses), csv and json print the rows; html writes or refreshes the dashboard
    <home>/published/dashboard.html and prints its path. With --gaps, the gap list (缺口清单) of the
    period: table, csv, json, or xlsx (a workbook at --out). Exits 2 when there are no published marts
    yet or the period or unit is unknown.
    """
    from reporting.report import ReportError, attainment_report, format_csv, format_json, render_table

    layout = HomeLayout(home)  # relative, as the user gave it: the messages name it so
    published = layout.published_database
    if not published.is_file():
        fail(f"no published marts at {published}: run `qiangji run --home {home}` first", ExitCode.USAGE)
    if gaps:
        _gaps(published, period, district, target, output_format, out)
        return
    if target is not None or output_format is ReportFormat.xlsx:
        fail("--target and --format xlsx go with --gaps", ExitCode.USAGE)
    try:
        result = attainment_report(published, period=period, district=district)
    except ReportError as exc:
        fail(str(exc), ExitCode.USAGE)
    if output_format is ReportFormat.html:
        from reporting.dashboard import build_dashboard
        from reporting.dashboard.gap_pages import write_gap_pages

        out = build_dashboard(published, layout.dashboard, period=period)
        write_gap_pages(published, layout.gap_lists)  # what the dashboard's cells link to
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


def _gaps(
    published: Path,
    period: str | None,
    district: str | None,
    target: str | None,
    output_format: ReportFormat,
    out: Path | None,
) -> None:
    """`qiangji report --gaps`: the gap list of one period (default the latest with data)."""
    from reporting.gaps import (
        column_labels,
        format_gaps_csv,
        format_gaps_json,
        gap_report,
        render_gaps_table,
        write_gaps_xlsx,
    )
    from reporting.report import ReportError, connect

    if output_format is ReportFormat.html:
        fail("--gaps has no html format: the dashboard links every cell to its gap list", ExitCode.USAGE)
    try:
        result = gap_report(published, period=period, district=district, target=target)
    except ReportError as exc:
        fail(str(exc), ExitCode.USAGE)
    if output_format is ReportFormat.xlsx:
        path = out or Path(f"gaps_{result.district or 'all'}_{result.period}.xlsx")
        with connect(published) as con:
            labels = column_labels(con)
        title = f"缺口清单 gap list {result.district or ''} {result.period} {target or ''}".strip()
        print(write_gaps_xlsx(result.rows, path, labels, title))
    elif output_format is ReportFormat.csv:
        sys.stdout.write(format_gaps_csv(result.rows))
    elif output_format is ReportFormat.json:
        print(format_gaps_json(result.rows))
    else:
        console.print(render_gaps_table(result))
