"""`qiangji generate`: synthetic submissions for every reporting unit and period, with their ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, err


def generate(
    out: Annotated[Path, typer.Option("--out", help="folder to write the submissions into")],
    periods: Annotated[
        str, typer.Option("--periods", help="FIRST-LAST, e.g. 2006H1-2010H2")
    ] = "2006H1-2010H2",
    scale: Annotated[
        float | None,
        typer.Option("--scale", show_default="the demo's", help="1.0 = city scale (≈1M members)"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="the same seed writes the same files")] = 2006,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            show_default="ground_truth.csv beside --out",
            help="where to write the ground truth (not into --out: a landing folder holds submissions only)",
        ),
    ] = None,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults", help="also write files with known defects and their manifest into <out>/faults/"
        ),
    ] = False,
) -> None:
    """Write synthetic submissions for every reporting unit and period, and their ground truth.

    The ground truth goes to --truth, by default `ground_truth.csv` beside the --out folder
    (`make run`: data/ground_truth.csv). Exits 2 on a period that is not one (YYYYH1 or YYYYH2,
    from 2006H1), a scale not above 0 or a --truth inside --out."""
    from rich.progress import Progress

    from generator import DEFAULT_SCALE, default_truth_path, generate_submissions
    from generator.periods import period_index

    first, _, last = periods.partition("-")
    try:
        if period_index(last or first) < period_index(first):
            raise ValueError(f"{last} is before {first}")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--periods") from None
    if truth is not None and truth.absolute().parent == out.absolute():
        raise typer.BadParameter("must not be inside --out: a landing folder holds submissions only",
                                 param_hint="--truth")  # fmt: skip
    if scale is not None and scale <= 0:
        raise typer.BadParameter("must be above 0", param_hint="--scale")
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("generating", total=None)
        summary = generate_submissions(
            out,
            first_period=first,
            last_period=last or first,
            scale=DEFAULT_SCALE if scale is None else scale,
            seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            faults=faults,
            truth_path=truth if truth is not None else default_truth_path(out),
        )
    console.print(
        f"wrote {len(summary.files)} submissions ({summary.members:,} member rows) to {out}", markup=False
    )
    console.print(f"ground truth: {summary.ground_truth_path}", markup=False)
    if faults:
        from generator.faults import FAULTS_DIR, FILES_FILE, MANIFEST_FILE

        console.print(
            f"faulty files: {out / FAULTS_DIR} (expected problems: {MANIFEST_FILE}, files: {FILES_FILE})",
            markup=False,
        )
