"""The measured stages, each run in a fresh subprocess: its wall time and its own peak RSS.

`python -m bench.stages <stage> <json args>` runs one stage and prints one JSON line:
`{"stage": ..., "seconds": ..., "peak_rss_mb": ..., "detail": {...}}`. The peak is the process's
own high-water mark (`ru_maxrss`), together with any children it waited for, so a stage is
measured with nothing else in its memory (the imports it needs are part of its cost).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH_KEY = b"qiangji-bench-key-not-a-secret-0123456789abcdef"


def stage_check(files: list[str]) -> dict:
    """`qiangji check` on every file: the clerk's pre-check, same reader and rules, no warehouse."""
    from ingest.precheck import check_paths

    reports = check_paths([Path(f) for f in files])
    return {"files": len(reports), "accepted": sum(r.accepted for r in reports)}


def stage_ingest(files: list[str], warehouse: str, archive: str, workers: int = 2) -> dict:
    """`ingest_landing`, the code path of the `submission` asset (and of `qiangji run`)."""
    from ingest.pipeline import ingest_landing

    outcomes = ingest_landing(
        [Path(f) for f in files], Path(warehouse), Path(archive), BENCH_KEY, workers=workers
    )
    statuses: dict[str, int] = {}
    for o in outcomes:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    return {"statuses": statuses, "rows": sum(sum(o.rows.values()) for o in outcomes)}


def stage_dbt(warehouse: str, refresh: bool = False) -> dict:
    """`dbt build` on the warehouse, as the Dagster asset runs it: the whole project (seeds, models,
    data tests), or with `refresh` what the refresh after new submissions builds (`REFRESH_SELECTOR`)."""
    from dbt.cli.main import dbtRunner

    from orchestration.project import QUIET_TELEMETRY, REFRESH_SELECTOR, dbt_build_env
    from warehouse.reference import project_root

    os.environ.update(QUIET_TELEMETRY)
    os.environ["QIANGJI_WAREHOUSE"] = warehouse
    os.environ.update(dbt_build_env())
    project = project_root() / "dbt_project"
    log_dir, target = Path(warehouse).parent / "dbt-logs", Path(warehouse).parent / "dbt-target"
    # The project is parsed before a run (`qiangji prepare`) and dagster-dbt hands dbt that parse
    # (partial_parse.msgpack) in a target folder of its own: so here, not a parse per build.
    parsed = project / "target" / "partial_parse.msgpack"
    if parsed.exists() and not (target / parsed.name).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, target / parsed.name)
    result = dbtRunner().invoke(
        ["build", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet",
         "--log-path", str(log_dir), "--target-path", str(target),
         *(["--selector", REFRESH_SELECTOR] if refresh else [])]
    )  # fmt: skip
    if not result.success:
        raise RuntimeError(f"dbt build failed: {result.exception or 'see ' + str(log_dir)}")
    return {"nodes": len(result.result or [])}


def stage_gx(warehouse: str, quality: str) -> dict:
    """Every Great Expectations suite, evaluated inside DuckDB (the `great_expectations_suites` check)."""
    from expectations.suites import run_suites

    outcomes = run_suites(Path(warehouse), Path(quality))
    failed = [o.name for s in outcomes for o in s.outcomes if not o.success and o.severity == "blocking"]
    if failed:
        raise RuntimeError(f"blocking expectations failed: {failed}")
    return {"suites": len(outcomes)}


def stage_publish(warehouse: str, published: str) -> dict:
    """`publish_marts`: marts.duckdb, Parquet and CSV written aside and renamed into place."""
    from warehouse.publish import PUBLISHED_MODELS, publish_marts

    publication = publish_marts(Path(warehouse), Path(published), PUBLISHED_MODELS)
    return {"rows": sum(publication.rows.values())}


def stage_floor(files: list[str], database: str, workers: int = 2) -> dict:
    """The floor: the same files into DuckDB tables with native readers, no validation at all."""
    from bench.baselines import native_load

    return native_load([Path(f) for f in files], Path(database), workers)


def stage_pandas(files: list[str], database: str) -> dict:
    """The pandas way: read_excel/read_csv → pandera (pandas) → DuckDB."""
    from bench.baselines import pandas_load

    return pandas_load([Path(f) for f in files], Path(database))


def stage_qiangji_run(home: str, landing: str, demo: bool = False) -> dict:
    """`qiangji run`: the real user path through Dagster, end to end; with `demo`, as `make run`
    runs it (`--demo`: the home's demo key), else with the benchmark's key."""
    env = {**os.environ, "QIANGJI_PSEUDONYM_KEY": BENCH_KEY.decode()}
    if demo:
        env.pop("QIANGJI_PSEUDONYM_KEY")
        env.pop("QIANGJI_PSEUDONYM_KEY_FILE", None)
        # the files are whole (generated, cached): no quiet period to wait for, as `make run` after
        # generating them
        env["QIANGJI_LANDING_QUIET_SECONDS"] = "0"
    qiangji = Path(sys.executable).with_name("qiangji")
    done = subprocess.run(
        [str(qiangji), "run", "--home", home, "--landing", landing, *(["--demo"] if demo else [])],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"qiangji run failed: {done.stderr[-2000:]}")
    return {}


STAGES: dict[str, Callable[..., dict]] = {
    "check": stage_check,
    "ingest": stage_ingest,
    "dbt": stage_dbt,
    "gx": stage_gx,
    "publish": stage_publish,
    "floor": stage_floor,
    "pandas": stage_pandas,
    "qiangji_run": stage_qiangji_run,
}


def _own_high_water_kib() -> int:
    """This process's own RSS high-water mark. Linux carries the parent's RSS at fork into the
    child's `ru_maxrss` across exec, so a stage started by a large parent (the bench after generating
    the data) would report the parent's size; VmHWM belongs to the process's own memory map."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_mb() -> float:
    """The high-water RSS of this process and of the children it waited for (Linux: KiB)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(_own_high_water_kib(), children) / 1024


def cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for children: robust to a busy machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_stage(stage: str, **kwargs: object) -> dict:
    """Run `stage` in a fresh interpreter; its timing, peak RSS and details."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.stages", stage, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stage {stage} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main(argv: list[str]) -> None:
    stage, kwargs = argv[0], json.loads(argv[1])
    began, cpu = time.perf_counter(), cpu_seconds()
    detail = STAGES[stage](**kwargs)
    report = {
        "stage": stage,
        "seconds": round(time.perf_counter() - began, 3),
        "cpu_s": round(cpu_seconds() - cpu, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "detail": detail,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
