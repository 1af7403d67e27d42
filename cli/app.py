"""`qiangji`: generate demo data, run the pipeline, pre-check a submission, open the UI, report,
write a unit's workbook template.

Each command is a module of this package; this one only names them and takes the options of
`qiangji` itself (`--verbose`, `--quiet`: the level of the messages on stderr, for every command).
Help is plain text (`rich_markup_mode=None`): brackets in it, such as click's `[default: …]`, are
shown as written. Exit codes: cli/exit_codes.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.check import check
from cli.console import Verbosity, setup_logging
from cli.dev import dev
from cli.export_raw import export_raw
from cli.generate import generate
from cli.prepare import prepare
from cli.rebuild import rebuild
from cli.report import report
from cli.run import run
from cli.template import template

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="qiangji: 强基创先 targets warehouse. Exit codes: 0 done, 1 bad data (check), "
    "2 usage or setup error (a missing input too), 3 the run failed or published nothing.",
)


@app.callback()
def main(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="debug messages too (in `run`: Dagster's lines instead of the bar)"
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="errors only on stderr (results still on stdout)")
    ] = False,
) -> None:
    """Options of qiangji itself, before the command: `qiangji -v run …`."""
    if verbose and quiet:
        raise typer.BadParameter("--verbose and --quiet exclude each other", param_hint="--verbose/--quiet")
    setup_logging(Verbosity.VERBOSE if verbose else Verbosity.QUIET if quiet else Verbosity.NORMAL)


app.command()(generate)
app.command()(prepare)
app.command()(run)
app.command("export-raw")(export_raw)
app.command()(check)
app.command()(dev)
app.command()(report)
app.command()(rebuild)
app.command()(template)

if __name__ == "__main__":
    app()
