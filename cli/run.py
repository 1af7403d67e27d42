"""`qiangji run`: load every submission in the landing folder, build the warehouse, publish the marts."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cli.console import HomeOption, LandingOption, console, err
from warehouse.layout import HomeLayout


def run(
    home: HomeOption = Path("data"),
    landing: LandingOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="allow a local pseudonymization key file")] = False,
    full_rebuild: Annotated[
        bool,
        typer.Option(
            "--full-rebuild",
            help="rebuild everything from scratch: seeds, every model, the incremental facts too",
        ),
    ] = False,
) -> None:
    """Load every submission in the landing folder, build the warehouse, publish the marts.

    The first run builds everything; later runs load the new files and rebuild what reads the raw
    tables, the facts incrementally (the seeds again only when the project's code changed them).
    --full-rebuild builds everything from scratch (once after a fact's columns changed)."""
    require_key(demo)
    layout = HomeLayout.at(home, landing)
    configure_home(layout, demo)
    run_configured(layout, full_rebuild=full_rebuild)


def require_key(demo: bool) -> None:
    """Exit 2 with the reason when the run has no usable pseudonymization key (before any work)."""
    from ingest.keys import KEY_ENV, KEY_FILE_ENV, PseudonymKeyError, load_key

    if not demo and not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        err.print(f"[red]no pseudonymization key[/red]: set {KEY_ENV} or {KEY_FILE_ENV} (or use --demo)")
        raise typer.Exit(2)
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        try:
            load_key(None)
        except PseudonymKeyError as e:
            err.print(f"[red]{escape(str(e))}[/red]")
            raise typer.Exit(2) from None


def run_configured(layout: HomeLayout, full_rebuild: bool = False) -> None:
    """Run the pipeline in a configured home, print how it ended; exit 1 if it failed."""
    from orchestration.runner import run_pipeline

    # In a terminal, a progress bar and only warnings above it; otherwise (CI, a pipe, a log
    # file) Dagster's INFO lines, which say the same in order.
    with _progress_bar(err.is_terminal) as show_progress:
        outcome = run_pipeline(layout, full_rebuild=full_rebuild, show_progress=show_progress)
    for abandoned in outcome.abandoned_runs:
        err.print(
            f"[yellow]run {abandoned} was killed before it ended[/yellow]: marked failed, its slot freed"
        )
    if outcome.waiting:
        err.print(
            f"[yellow]{len(outcome.waiting)} landing entries are still being written[/yellow] "
            "(changed within QIANGJI_LANDING_QUIET_SECONDS): left for the next run"
        )
    if not outcome.success:
        err.print(
            f"[red]the run failed[/red] at {', '.join(outcome.failed_steps) or 'an unknown step'}"
            f" (run {outcome.run_id})"
        )
        raise typer.Exit(1)
    if not outcome.published:
        err.print(
            "[yellow]this run published nothing[/yellow]: its marts changed after their checks (another run "
            "rebuilt them and publishes after its own checks); the last good publication stays in place"
        )
    if layout.published_database.exists():
        print_summary(layout.published_database)


def configure_home(layout: HomeLayout, demo: bool) -> None:
    """The run's environment (orchestration.runner.configure): from here on, what the command creates
    is owner-only (umask 077) and the home's folders are; exit 2 when QIANGJI_PUBLISHED_MODE is not a
    mode published/ may have."""
    from orchestration.runner import configure
    from warehouse.publish import PublishedModeError

    try:
        configure(layout, demo=demo)
    except PublishedModeError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None


@contextlib.contextmanager
def _progress_bar(show: bool) -> Iterator[Callable | None]:
    """A progress bar on stderr over files loaded, dbt nodes built and the other steps of the run;
    yields what updates it (None: no bar)."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # Dagster captures each step's output by pointing file descriptors 1 and 2 at a pipe that it
    # copies to the terminal line by line, which would hold back the bar's in-place redraws until the
    # step ends: the bar writes to its own duplicate of the terminal's descriptor, taken now.
    with os.fdopen(os.dup(sys.stderr.fileno()), "w") as terminal:
        with Progress(
            *columns,
            console=Console(file=terminal),
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as bar:
            task = bar.add_task("starting", total=None)

            def show_state(p) -> None:
                bar.update(task, description=p.description, completed=p.completed, total=p.total)

            yield show_state


def print_summary(published: Path) -> None:
    from reporting.report import city_summary, render_city_summary, submission_totals

    console.print(render_city_summary(city_summary(published)))
    files = submission_totals(published)
    console.print(
        f"files received: {files['received']:,} — {files['rejected']:,} rejected, "
        f"{files['superseded']:,} superseded, {files['pending']:,} pending"
        + (" (the server stopped their reading: the next run reads them again)" if files["pending"] else "")
    )
    console.print(f"published marts: {published}")
