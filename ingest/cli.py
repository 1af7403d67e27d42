"""`qiangji`: generate demo data, run the pipeline, pre-check a submission, open the UI."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, help="qiangji: 强基创先 targets warehouse")
console = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)

HomeOption = Annotated[Path, typer.Option("--home", help="data home: warehouse, archive, published marts")]
LandingOption = Annotated[
    Path | None, typer.Option("--landing", help="folder of submissions [<home>/landing]")
]


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="folder to write the submissions into")],
    periods: Annotated[
        str, typer.Option("--periods", help="FIRST-LAST, e.g. 2006H1-2010H2")
    ] = "2006H1-2010H2",
    scale: Annotated[float | None, typer.Option("--scale", help="1.0 = city scale (≈1M members)")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 2006,
    faults: Annotated[
        bool,
        typer.Option(
            "--faults", help="also write files with known defects and their manifest into <out>/faults/"
        ),
    ] = False,
) -> None:
    """Write synthetic submissions for every reporting unit and period, and their ground truth."""
    from rich.progress import Progress

    from ingest.generate import DEFAULT_SCALE, generate_submissions

    first, _, last = periods.partition("-")
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
        )
    console.print(f"wrote {len(summary.files)} submissions ({summary.members:,} member rows) to {out}")
    console.print(f"ground truth: {summary.ground_truth_path}")
    if faults:
        from ingest.generate.faults import FAULTS_DIR, FILES_FILE, MANIFEST_FILE

        console.print(
            f"faulty files: {out / FAULTS_DIR} (expected problems: {MANIFEST_FILE}, files: {FILES_FILE})"
        )


@app.command()
def prepare() -> None:
    """Parse the dbt project into its manifest (needed before Dagster loads the definitions)."""
    from ingest.environment import prepare_dbt

    console.print(f"dbt manifest: {prepare_dbt(force=True)}")


@app.command()
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
    from ingest.environment import configure, prepare_dbt
    from ingest.identity import KEY_ENV, KEY_FILE_ENV

    if not demo and not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        err.print(f"[red]no pseudonymization key[/red]: set {KEY_ENV} or {KEY_FILE_ENV} (or use --demo)")
        raise typer.Exit(2)
    landing = landing or home / "landing"
    configure(home, landing, demo=demo)
    prepare_dbt()

    from orchestration.definitions import defs
    from orchestration.defs.ingest import all_partitions_tags, register_landing
    from orchestration.defs.schedules import stale_for_refresh
    from orchestration.defs.transform import FULL_REFRESH_TAG
    from orchestration.recovery import fail_abandoned_runs, launcher_tags
    from orchestration.resources import dagster_instance

    log_dir = home.resolve() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    # dbt's own output goes to stdout (the UI shows it as the step's compute log); here it goes to a
    # file, and the terminal keeps Dagster's progress and the summary.
    with dagster_instance() as instance, open(log_dir / "dbt.log", "a") as dbt_log:
        # One run of the job the UI shows: a single-run backfill of every submission partition
        # (each (reporting unit, period) with a file in the landing folder gets its partition), then
        # dbt, the checks and publish. With no submission at all, everything after ingest.
        for abandoned in fail_abandoned_runs(instance):
            err.print(
                f"[yellow]run {abandoned} was killed before it ended[/yellow]: marked failed, its slot freed"
            )
        keys = register_landing(instance, landing.resolve())
        # New files only change the raw tables: once the seeds and their dimensions are built from
        # this code, the models that read the raw tables are all that is rebuilt.
        if not keys:
            job = defs.resolve_job_def("nightly_rebuild")
        elif full_rebuild or stale_for_refresh(instance, defs.get_repository_def()):
            job = defs.resolve_job_def("qiangji_pipeline")
        else:
            job = defs.resolve_job_def("load_and_refresh")
        run_id = str(uuid.uuid4())
        # In a terminal, a progress bar and only warnings above it; otherwise (CI, a pipe, a log
        # file) Dagster's INFO lines, which say the same in order.
        bar = err.is_terminal
        with contextlib.redirect_stdout(dbt_log), _run_progress(instance, run_id, landing, keys, job, bar):
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_id=run_id,
                tags={
                    **(all_partitions_tags(keys) if keys else {}),
                    **launcher_tags(),
                    **({FULL_REFRESH_TAG: "true"} if full_rebuild else {}),
                },
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING" if bar else "INFO"}}}},
            )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        err.print(
            f"[red]the run failed[/red] at {', '.join(failed) or 'an unknown step'} (run {result.run_id})"
        )
        raise typer.Exit(1)
    published = home.resolve() / "published" / "marts.duckdb"
    if not any(e.event_type_value == "ASSET_MATERIALIZATION" and e.step_key == "published_marts"
               for e in result.all_events):  # fmt: skip
        err.print(
            "[yellow]this run published nothing[/yellow]: its marts changed after their checks (another run "
            "rebuilt them and publishes after its own checks); the last good publication stays in place"
        )
    if published.exists():
        print_summary(published)


@contextlib.contextmanager
def _run_progress(instance, run_id: str, landing: Path, keys: list[str], job, show: bool):
    """A progress bar on stderr over files loaded, dbt nodes built and the other steps of the run."""
    if not show:
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.pipeline import landing_partitions
    from orchestration.defs.transform import warehouse_models
    from orchestration.progress import STEP_LABELS, RunProgress, RunWatcher

    files = sum(
        len(paths) for key, paths in landing_partitions(landing.resolve()).items() if key in set(keys)
    )
    state = RunProgress(
        files_total=files,
        models_total=len(warehouse_models.keys & job.asset_layer.executable_asset_keys),
        other_steps=len(STEP_LABELS) - 2,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # Dagster captures each step's output by pointing file descriptors 1 and 2 at a pipe that it
    # copies to the terminal line by line, which would hold back the bar's in-place redraws until the
    # step ends: the bar writes to its own duplicate of the terminal's descriptor, taken now.
    with os.fdopen(os.dup(sys.stderr.fileno()), "w") as terminal:
        console = Console(file=terminal)
        with Progress(
            *columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False
        ) as bar:
            task = bar.add_task("starting", total=state.total)

            def show_state(p: RunProgress) -> None:
                bar.update(task, description=p.description, completed=p.completed, total=p.total)

            with RunWatcher(instance, run_id, state, show_state):
                yield


def print_summary(published: Path) -> None:
    import duckdb

    with duckdb.connect(str(published), read_only=True) as con:
        latest = con.execute(
            "SELECT max(period) FROM mart_target_attainment"
            " WHERE district_code = '120000' AND status <> 'no_data'"
        ).fetchone()[0]
        rows = con.execute(
            """
            SELECT a.target_id, t.name_en, a.value, a.target_value, a.deadline_period, a.status,
                   (SELECT count(*) FROM mart_target_attainment d
                     WHERE d.target_id = a.target_id AND d.period = a.period AND d.district_code <> '120000'
                       AND d.status IN ('at_risk', 'missed')) AS behind
            FROM mart_target_attainment a JOIN dim_target t USING (target_id)
            WHERE a.district_code = '120000' AND a.period = ? AND a.numerator IS NOT NULL
            ORDER BY a.target_id
            """,
            [latest],
        ).fetchall()
    table = Table(title=f"天津市 强基创先 target attainment, {latest} (city)")
    for col in ("target", "", "value", "target", "deadline", "status", "units behind"):
        table.add_column(col)
    colors = {"achieved": "green", "on_track": "cyan", "at_risk": "yellow", "missed": "red", "no_data": "dim"}
    for target_id, name, value, target, deadline, status, behind in rows:
        table.add_row(
            target_id,
            name,
            "" if value is None else f"{value:.1%}" if value <= 1 else f"{value:g}",
            "" if target is None else f"{float(target):.1%}" if target <= 1 else f"{float(target):g}",
            deadline or "every period",
            f"[{colors.get(status, 'white')}]{status}[/]",
            str(behind),
        )
    console.print(table)
    console.print(f"published marts: {published}")


@app.command("export-raw")
def export_raw(
    home: HomeOption = Path("data"),
    out: Annotated[
        Path | None, typer.Option("--out", help="folder for the Parquet files [<home>/raw_parquet]")
    ] = None,
) -> None:
    """Write the warehouse's raw tables as Parquet, for the dbt project's Spark target."""
    from ingest.export import export_raw_parquet

    warehouse = home / "warehouse.duckdb"
    if not warehouse.exists():
        err.print(f"[red]no warehouse[/red] at {warehouse}: run `qiangji run --home {home}` first")
        raise typer.Exit(2)
    target = (out or home / "raw_parquet").resolve()
    summary = export_raw_parquet(warehouse, target)
    written = sum(summary.written.values())
    removed = sum(summary.removed.values())
    console.print(f"raw tables: {written} files written, {removed} removed, in {target}")
    console.print(f"for dbt on Spark: QIANGJI_RAW_PARQUET={target}")


@app.command()
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


CHECK_PROGRESS_MIN_FILES = 3  # more files than this: a progress bar (on stderr) while checking


def _check_with_progress(paths: list[Path]) -> list:
    """check_paths with a progress bar; the problems are printed after, when every file is checked."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.precheck import check_path
    from ingest.settings import IngestSettings

    settings = IngestSettings.from_env()
    reports = []
    columns = (
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=len(paths))
        for path in paths:
            progress.update(task, description=path.name)
            reports.append(check_path(path, settings))
            progress.advance(task)
    return reports


@app.command()
def dev(
    home: HomeOption = Path("data"),
    landing: LandingOption = None,
    port: Annotated[int, typer.Option("--port")] = 3000,
    demo: Annotated[bool, typer.Option("--demo")] = False,
) -> None:
    """The Dagster UI and daemon on 127.0.0.1 with this project loaded."""
    from ingest.environment import configure, prepare_dbt

    configure(home, landing or home / "landing", demo=demo)
    prepare_dbt()
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(
        str(dagster),
        [str(dagster), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
    )


@app.command()
def report(
    home: HomeOption = Path("data"),
    period: Annotated[
        str | None, typer.Option("--period", help="e.g. 2008H2 [the latest period with data]")
    ] = None,
    district: Annotated[
        str | None,
        typer.Option("--district", help="a reporting unit's code or name [every unit and the city]"),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv, json or html")] = "table",
) -> None:
    """Target attainment per reporting unit for one period, from the published marts.

    table (colored statuses), csv and json print the rows; html writes or refreshes the dashboard
    <home>/published/dashboard.html and prints its path.
    """
    from ingest.report import ReportError, attainment_report, format_csv, format_json, render_table

    if output_format not in ("table", "csv", "json", "html"):
        err.print("--format must be table, csv, json or html")
        raise typer.Exit(2)
    published = home / "published" / "marts.duckdb"
    if not published.is_file():
        err.print(f"[red]no published marts[/red] at {published}: run `qiangji run --home {home}` first")
        raise typer.Exit(1)
    try:
        result = attainment_report(published, period=period, district=district)
    except ReportError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    if output_format == "html":
        from ingest.dashboard import build_dashboard

        out = build_dashboard(published, home / "published" / "dashboard.html", period=period)
        anchor = f"#d-{result.district}" if result.district else ""
        print(out.resolve())
        if anchor:
            print(out.resolve().as_uri() + anchor)
    elif output_format == "csv":
        sys.stdout.write(format_csv(result.rows))
    elif output_format == "json":
        print(format_json(result.rows))
    else:
        console.print(render_table(result))


if __name__ == "__main__":
    app()
