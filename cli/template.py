"""`qiangji template`: the official workbook of a reporting unit for a half-year, ready to fill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import HomeOption, fail, log
from cli.exit_codes import ExitCode
from warehouse.layout import HomeLayout


def template(
    unit: Annotated[str, typer.Argument(help="the reporting unit's code, e.g. 120104 or XT01")],
    period: Annotated[str, typer.Argument(help="the half-year, e.g. 2008H2")],
    home: HomeOption = Path("data"),
    out: Annotated[
        Path | None,
        typer.Option("--out", show_default="<UNIT>_<PERIOD>.xlsx here", help="where to write the workbook"),
    ] = None,
    prefill: Annotated[
        bool,
        typer.Option(
            "--prefill/--no-prefill",
            help="fill in the 单位 and 组织 rows of the unit's latest accepted earlier submission "
            "from <home>/warehouse.duckdb (never members: names and IDs are not kept)",
        ),
    ] = True,
    force: Annotated[bool, typer.Option("--force", help="replace OUT if it exists")] = False,
) -> None:
    """Write the official workbook of UNIT for PERIOD: every sheet and header of the format, a note on
    each header, drop-downs for every code list, date formats, the cover filled in.

    Its name is the one to send it under. Exits 2 when the unit does not report in that period, OUT
    exists (without --force), or the warehouse cannot be read for the pre-filled rows."""
    import duckdb

    from workbooks.template import TemplateError, previous_submission, write_template

    target = out or Path(f"{unit}_{period}.xlsx")
    if target.exists() and not force:
        fail(f"{target} exists: choose another --out, or --force to replace it", ExitCode.USAGE)
    warehouse = HomeLayout(home).warehouse
    try:
        earlier = previous_submission(warehouse, unit, period) if prefill else None
        written = write_template(unit, period, target, earlier)
    except TemplateError as exc:
        fail(str(exc), ExitCode.USAGE)
    except duckdb.IOException as exc:  # a run is writing the warehouse (DuckDB: one writer, no reader)
        fail(f"cannot read {warehouse} now ({exc}); retry after the run, or --no-prefill", ExitCode.USAGE)
    if written.prefilled_from:
        rows = ", ".join(f"{n} {sheet}" for sheet, n in written.prefilled_rows.items())
        log.info(f"pre-filled from the accepted {written.prefilled_from} submission: {rows} rows")
    elif prefill:
        log.info(f"no accepted submission of {unit} before {period} in {warehouse}: nothing pre-filled")
    print(written.path)
