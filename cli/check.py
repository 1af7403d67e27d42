"""`qiangji check`: a district clerk's pre-check of submissions, without touching any warehouse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, err

CHECK_PROGRESS_MIN_FILES = 3  # more files than this: a progress bar (on stderr) while checking


def check(
    paths: Annotated[list[Path], typer.Argument(help="submission files or folders")],
    output_format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Pre-check submissions as the warehouse would, without touching any warehouse."""
    from ingest.precheck import check_paths

    if output_format not in ("text", "json"):
        err.print("--format must be text or json")
        raise typer.Exit(2)
    if len(paths) > CHECK_PROGRESS_MIN_FILES:
        reports = _check_with_progress(paths)
    else:
        reports = check_paths(paths)
    if output_format == "json":
        console.print_json(json.dumps([r.as_dict() for r in reports], ensure_ascii=False))
    else:
        for report in reports:
            report.print(console)
    raise typer.Exit(0 if all(r.accepted for r in reports) else 1)


def _check_with_progress(paths: list[Path]) -> list:
    """check_paths with a progress bar; the problems are printed after, when every file is checked."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.precheck import check_paths

    columns = (
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=len(paths))

        def done(report) -> None:
            progress.update(task, description=report.file)
            progress.advance(task)

        return check_paths(paths, on_done=done)
