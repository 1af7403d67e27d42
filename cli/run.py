"""`qiangji run`: load every submission in the landing folder, build the warehouse, publish the marts."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli.console import DemoOption, HomeOption, LandingOption, Verbosity, console, err, fail, log, verbosity
from cli.exit_codes import ExitCode, run_exit_code
from warehouse.layout import HomeLayout

if TYPE_CHECKING:
    from orchestration.runner import RunOutcome


class RunFormat(StrEnum):
    text = "text"
    json = "json"


def run(
    home: HomeOption = Path("data"),
    landing: LandingOption = None,
    demo: DemoOption = False,
    full_rebuild: Annotated[
        bool,
        typer.Option(
            "--full-rebuild",
            help="rebuild everything from scratch: seeds, every model, the incremental facts too",
        ),
    ] = False,
    output_format: Annotated[
        RunFormat,
        typer.Option(
            "--format",
            help="text: the attainment summary; json: one object on stdout at the end (run id, "
            "published, where, files by status, failed checks, exit code), every message on stderr",
        ),
    ] = RunFormat.text,
) -> None:
    """Load every submission in the landing folder, build the warehouse, publish the marts.

    The first run builds everything; later runs load the new files and rebuild what reads the raw
    tables, the facts incrementally (the seeds again only when the project's code changed them).
    --full-rebuild builds everything from scratch (once after a fact's columns changed).

    Exits 0 when the run published (rejected files and quarantined rows are reported, not a
    failure), 2 without a usable key or landing folder or with a bad QIANGJI_PUBLISHED_MODE, 3 when
    the run failed or published nothing."""
    require_key(demo)
    layout = HomeLayout.at(home, landing)
    _require_published_mode()
    if not layout.landing.is_dir():
        fail(f"no landing folder at {layout.landing}: create it, or give --landing", ExitCode.USAGE)
    configure_home(layout, demo)
    run_configured(layout, full_rebuild=full_rebuild, output_format=output_format)


def require_key(demo: bool) -> None:
    """Exit 2 with the reason when the run has no usable pseudonymization key (before any work)."""
    from ingest.keys import KEY_ENV, KEY_FILE_ENV, PseudonymKeyError, load_key

    if not demo and not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        fail(f"no pseudonymization key: set {KEY_ENV} or {KEY_FILE_ENV} (or use --demo)", ExitCode.USAGE)
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        try:
            load_key(None)
        except PseudonymKeyError as e:
            fail(str(e), ExitCode.USAGE)


def _require_published_mode() -> None:
    """Exit 2 when QIANGJI_PUBLISHED_MODE is not a mode published/ may have (before the home is made)."""
    from warehouse.publish import PublishedMode, PublishedModeError

    try:
        PublishedMode.from_env()
    except PublishedModeError as e:
        fail(str(e), ExitCode.USAGE)


def run_configured(
    layout: HomeLayout, full_rebuild: bool = False, output_format: RunFormat = RunFormat.text
) -> None:
    """Run the pipeline in a configured home, report how it ended (text or one JSON object on stdout)
    and exit with its code: 0 published, 3 failed or published nothing."""
    from orchestration.runner import RunOutcome, run_pipeline

    level = verbosity()
    # In a terminal, a progress bar and only warnings above it; otherwise (CI, a pipe, a log file)
    # short progress lines ("dbt build 80/240") and the warnings; --verbose: Dagster's own lines
    # (every event, in its log format); --quiet: errors only, no progress.
    progress = level is Verbosity.NORMAL
    bar = progress and err.is_terminal
    dagster_level = {Verbosity.QUIET: "ERROR", Verbosity.VERBOSE: "DEBUG"}.get(level)
    # with --format json, stdout holds the JSON alone: what the run writes to it goes to stderr
    redirect = _stdout_to_stderr() if output_format is RunFormat.json else contextlib.nullcontext()
    try:
        with redirect, _progress_bar() if bar else _progress_lines(progress) as show_progress:
            outcome = run_pipeline(
                layout, full_rebuild=full_rebuild, show_progress=show_progress, log_level=dagster_level
            )
    except Exception as exc:  # the run could not even start or end (storage, dbt's manifest, ...)
        verbose = level is Verbosity.VERBOSE
        log.error(
            "the run failed: %s%s",
            exc,
            "" if verbose else " (`qiangji -v run` shows where)",
            exc_info=verbose,
        )
        outcome = RunOutcome(run_id="", job_name="", success=False)
    else:
        _report_messages(outcome)
    code = run_exit_code(outcome.success, outcome.published)
    if output_format is RunFormat.json:
        print(json.dumps(run_summary(outcome, layout, code), ensure_ascii=False, indent=2))
    elif outcome.success and layout.published_database.exists():  # a failed run: no summary
        print_summary(layout.published_database, outcome)
        print_next_steps(layout, outcome)
    raise typer.Exit(int(code))


def _report_messages(outcome: RunOutcome) -> None:
    """How the run went, on stderr: recovered runs, files left for later, failed checks, the end."""
    for abandoned in outcome.abandoned_runs:
        log.warning("run %s was killed before it ended: marked failed, its slot freed", abandoned)
    if outcome.waiting:
        log.warning(
            "%d landing entries are still being written (changed within QIANGJI_LANDING_QUIET_SECONDS): "
            "left for the next run",
            len(outcome.waiting),
        )
    warned = [c for c in outcome.checks_failed if c.severity != "ERROR"]
    blocking = [c for c in outcome.checks_failed if c.severity == "ERROR"]
    if warned:
        log.warning("%d checks failed as warnings: %s", len(warned), ", ".join(c.check for c in warned))
    if blocking:
        log.error("%d blocking checks failed: %s", len(blocking), ", ".join(c.check for c in blocking))
    if not outcome.success:
        log.error(
            "the run failed at %s (run %s)",
            ", ".join(outcome.failed_steps) or "an unknown step",
            outcome.run_id,
        )
    elif not outcome.published:
        log.error(
            "this run published nothing: its marts changed after their checks (another run rebuilt them "
            "and publishes after its own checks), or a blocking check failed; the last good publication "
            "stays in place"
        )


def run_summary(outcome: RunOutcome, layout: HomeLayout, code: ExitCode) -> dict[str, object]:
    """What `qiangji run --format json` prints: how the run ended, where its publication is, its files
    by status and failed checks. No names or IDs: landing names are shown masked (as in its logs)."""
    from orchestration.defs.ingest import STATUSES as SUBMISSION_STATUSES
    from reporting.report import submission_totals

    published = layout.published

    def where(path: Path) -> str | None:
        return str(path) if path.exists() else None

    files = {"received": 0, **dict.fromkeys(SUBMISSION_STATUSES, 0), **outcome.files}
    return {
        "run_id": outcome.run_id or None,  # None: the run never started
        "job": outcome.job_name or None,
        "success": outcome.success,
        "published": outcome.published,
        "exit_code": int(code),
        "where": {
            "published_database": where(layout.published_database),
            "dashboard": where(layout.dashboard),
            "parquet": where(published / "parquet"),
            "csv": where(published / "csv"),
            "data_docs": where(layout.data_docs),
        },
        "files": files,  # this run's
        "quarantined_rows": outcome.quarantined_rows,
        # every file the warehouse ever received, by what became of it (mart_submission_status)
        "files_in_warehouse": submission_totals(layout.published_database)
        if layout.published_database.exists()
        else None,
        "waiting": outcome.waiting,
        "checks_failed": [
            {"asset": c.asset, "check": c.check, "severity": c.severity} for c in outcome.checks_failed
        ],
        "failed_steps": outcome.failed_steps,
        "abandoned_runs": outcome.abandoned_runs,
    }


def configure_home(layout: HomeLayout, demo: bool) -> None:
    """The run's environment (orchestration.runner.configure): from here on, what the command creates
    is owner-only (umask 077) and the home's folders are; exit 2 when QIANGJI_PUBLISHED_MODE is not a
    mode published/ may have."""
    from orchestration.runner import configure
    from warehouse.publish import PublishedModeError

    try:
        configure(layout, demo=demo)
    except PublishedModeError as e:
        fail(str(e), ExitCode.USAGE)


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable | None]:
    """A progress bar on stderr over files loaded, dbt nodes built and the other steps of the run;
    yields what updates it."""
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


# outside a terminal, a line when the stage changes and at most one every this many seconds within it
PROGRESS_LINE_SECONDS = 10.0


@contextlib.contextmanager
def _progress_lines(show: bool) -> Iterator[Callable | None]:
    """Progress as short lines on stderr, for a log file or CI ("[0:42] dbt build 80/240"): one when
    a stage starts, then at most one every PROGRESS_LINE_SECONDS; yields what updates it (None: no
    lines). Written to a duplicate of stderr's descriptor, taken now, as the bar is."""
    if not show:
        yield None
        return
    began = time.monotonic()
    last = {"stage": "starting", "text": "", "at": began}
    with os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1) as out:

        def show_state(p) -> None:
            now = time.monotonic()
            text = p.description
            recent = p.stage == last["stage"] and now - last["at"] < PROGRESS_LINE_SECONDS
            if text == last["text"] or recent or p.stage == "starting":
                return
            elapsed = int(now - began)
            out.write(f"[{elapsed // 60}:{elapsed % 60:02d}] {text}\n")
            last.update(stage=p.stage, text=text, at=now)

        yield show_state


def print_summary(published: Path, outcome: RunOutcome | None = None) -> None:
    """The attainment summary on stdout: the city's targets, the warehouse's files, this run's files."""
    from reporting.report import city_summary, render_city_summary, submission_totals

    console.print(render_city_summary(city_summary(published)))
    files = submission_totals(published)
    console.print(
        f"files received: {files['received']:,} — {files['rejected']:,} rejected, "
        f"{files['superseded']:,} superseded, {files['pending']:,} pending"
        + (" (the server stopped their reading: the next run reads them again)" if files["pending"] else "")
    )
    if outcome is not None and outcome.files.get("received"):
        # accepted and rejected always (a newcomer looks for them), the other statuses when there are some
        shown = ("accepted", "rejected")
        counts = [f"{outcome.files.get(s, 0):,} {s}" for s in shown]
        counts += [f"{n:,} {s}" for s, n in outcome.files.items() if s not in ("received", *shown) and n]
        console.print(
            f"this run: {outcome.files['received']:,} files — {', '.join(counts)}; "
            f"{outcome.quarantined_rows:,} rows quarantined (kept out of the marts)"
        )


def print_next_steps(layout: HomeLayout, outcome: RunOutcome | None = None) -> None:
    """After the summary, on stdout: where to look (absolute paths, file:// for pages a browser
    opens), how to see why a file was rejected or a row quarantined, and the next commands."""
    here = _command_prefix(layout)
    pages = [
        ("dashboard", layout.dashboard),
        ("gap lists", layout.gap_lists / "index.html"),
        ("Data Docs", layout.data_docs / "index.html"),
        ("docs site", layout.published / "docs" / "index.html"),
    ]
    lines = ["", "where to look:"]
    for label, page in pages:
        if page.exists():
            lines.append(f"  {label + ':':<18}{page.resolve().as_uri()}")
        elif label == "gap lists" and layout.gap_lists.is_dir():
            lines.append(f"  {label + ':':<18}{layout.gap_lists.resolve().as_uri()}/")
    lines.append(f"  {'published marts:':<18}{layout.published_database.resolve()}")
    if outcome is not None and (outcome.files.get("rejected") or outcome.quarantined_rows):
        lines += [
            "",
            f"why a file was rejected or a row quarantined: {here} check FILE (every problem, in Chinese",
            "and English, with its sheet and row), or the Data Docs above",
        ]
    commands = [
        (f"{here} report{_home_option(layout)}", "the attainment table (--period, --district)"),
        (f"{here} report --gaps{_home_option(layout)}", "what falls short, and why (缺口清单)"),
        ("make dev", "the Dagster UI on http://127.0.0.1:3000 (runs, checks, lineage)"),
    ]
    width = max(len(command) for command, _ in commands) + 3
    lines += ["", "next:", *(f"  {command:<{width}}{what}" for command, what in commands)]
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def _command_prefix(layout: HomeLayout) -> str:
    """How this command was called (`.venv/bin/qiangji` from `make run`), to repeat it in hints."""
    called = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    return str(called) if called is not None and called.name == "qiangji" else "qiangji"


def _home_option(layout: HomeLayout) -> str:
    """` --home H` when the home is not the default `data` of the current folder."""
    return "" if layout.home.resolve() == Path("data").resolve() else f" --home {layout.home}"


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 pointed at stderr meanwhile (Dagster and dbt write to the descriptor)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
