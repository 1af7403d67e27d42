"""`qiangji`: generate demo data, run the pipeline, pre-check a submission, open the UI, report.

Each command is a module of this package; this one only names them.
"""

from __future__ import annotations

import typer

from cli.check import check
from cli.dev import dev
from cli.export_raw import export_raw
from cli.generate import generate
from cli.prepare import prepare
from cli.rebuild import rebuild
from cli.report import report
from cli.run import run

app = typer.Typer(add_completion=False, no_args_is_help=True, help="qiangji: 强基创先 targets warehouse")
app.command()(generate)
app.command()(prepare)
app.command()(run)
app.command("export-raw")(export_raw)
app.command()(check)
app.command()(dev)
app.command()(report)
app.command()(rebuild)

if __name__ == "__main__":
    app()
