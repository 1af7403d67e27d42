"""`qiangji check`: a district clerk's pre-check of submissions, without touching any warehouse."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, err, fail, log
from cli.exit_codes import ExitCode

CHECK_PROGRESS_MIN_FILES = 3  # more files than this: a progress bar (on stderr) while checking


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


def check(
    paths: Annotated[list[Path], typer.Argument(help="submission files or folders")],
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text (in Chinese and English) or json for scripts")
    ] = CheckFormat.text,
    annotate: Annotated[
        Path | None,
        typer.Option(
            "--annotate",
            metavar="OUT.xlsx",
            show_default="no copy",
            help="write a copy of the one submission checked with every problem cell red and "
            "commented (zh/en), structural problems on the cover, and a first sheet 问题清单 "
            "linking to each (a zip or folder of CSVs becomes a workbook)",
        ),
    ] = None,
) -> None:
    """Pre-check submissions as the warehouse would, without touching any warehouse.

    Exits 0 when every file would be accepted (quarantined rows are warnings), 1 when any would be
    rejected, 2 when a path does not exist or could not be read."""
    from ingest.precheck import check_paths

    missing = [p for p in paths if not os.path.lexists(p)]  # a link is checked (and refused) as such
    if missing:
        fail("no such file or folder: " + ", ".join(str(p) for p in missing), ExitCode.USAGE)
    if annotate is not None and len(paths) != 1:
        fail("--annotate writes the copy of one submission: give one file or folder", ExitCode.USAGE)
    if annotate is not None and annotate.suffix.lower() != ".xlsx":
        fail(f"--annotate {annotate}: the copy is a workbook, name it *.xlsx", ExitCode.USAGE)
    try:
        if len(paths) > CHECK_PROGRESS_MIN_FILES:
            reports = _check_with_progress(paths)
        else:
            reports = check_paths(paths)
    except OSError as exc:  # the file could not be read at all (permissions, the reader's limits)
        fail(str(exc), ExitCode.USAGE)
    if output_format is CheckFormat.json:
        console.print_json(json.dumps([r.as_dict() for r in reports], ensure_ascii=False))
    else:
        for report in reports:
            report.print(console)
    if annotate is not None:
        _annotate(paths[0], reports[0], annotate)
    raise typer.Exit(int(ExitCode.DONE if all(r.accepted for r in reports) else ExitCode.BAD_DATA))


def _annotate(source: Path, report, out: Path) -> None:
    """The clerk's copy with every problem marked; its path on stderr (stdout holds the report)."""
    from workbooks.annotate import AnnotateError, annotate_submission

    try:
        annotation = annotate_submission(source, report.all_problems(), out)
    except (AnnotateError, OSError) as exc:
        fail(f"--annotate: {exc}", ExitCode.USAGE)
    log.info(f"annotated copy: {annotation.path} ({annotation.problems} problems listed in 问题清单)")


def _check_with_progress(paths: list[Path]) -> list:
    """check_paths with a progress bar; the problems are printed after, when every file is checked."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.precheck import check_paths

    columns = (
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=len(paths))

        def done(report) -> None:
            progress.update(task, description=report.file)
            progress.advance(task)

        return check_paths(paths, on_done=done)
