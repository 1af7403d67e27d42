"""Whole runs as real processes: kill -9 mid-load, two runs at once, idempotency, privacy.

One landing folder (valid submissions and the fault generator's files) is run:
- in home A by one `qiangji run`, and
- in home B by a `qiangji run` killed with SIGKILL while it loads, then by two `qiangji run`
  started at the same instant (both must recover from the kill, finish, and write one at a time;
  the second finds every file already loaded).
Both homes must then hold the same warehouse and publication, table by table (row counts and a
content checksum), and nothing the runs wrote may hold a national ID or a name of the input.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from generator import generate_submissions
from generator.faults import FAULTS_DIR
from ingest.pipeline import audit_raw, list_landing
from orchestration.recovery import PID_TAG
from orchestration.resources import WAREHOUSE_POOL
from tests.support.cli import QIANGJI, ROOT, cli_env
from tests.support.pool import warehouse_steps
from tests.support.privacy import identities, leaks_in_duckdb, leaks_in_parquet, needles_of

pytestmark = pytest.mark.slow
RUN_TIMEOUT = int(os.environ.get("QIANGJI_DRILL_TIMEOUT", "1200"))  # then a hung run fails
PERIOD = "2007H2"
GOOD_FILES = 12

# Columns that legitimately differ between two loads of the same files: when a file was received
# and which Dagster run checked what, when. Every other column of every table must be equal.
# `attempts`: a file the killed run was reading counts that read; `first_used_at`: when the key first loaded.
VOLATILE_COLUMNS = {"received_at", "last_received_at", "run_id", "checked_at", "first_used_at", "attempts"}
# Tables that keep a history (a row per check per run): compared as their distinct rows. Their
# `pandera` rows are the row checks of the submissions a run loaded: those loaded by the killed run
# have none (their problems are in raw.problems, written with their rows); left out.
HISTORY_TABLES = {"audit_check_results": "layer <> 'pandera'"}


def _env() -> dict[str, str]:
    env = cli_env()  # DAGSTER_HOME: <home>/dagster, as `qiangji run` decides
    return env


def _start_run(home: Path, landing: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [QIANGJI, "run", "--home", str(home), "--landing", str(landing)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(procs: list[subprocess.Popen]) -> list[str]:
    """The runs' outputs, once each ended: published (exit 0), or, of runs at once, the one whose
    marts another run rebuilt after its checks published nothing (exit 3: cli/exit_codes.py)."""
    try:
        outputs = [p.communicate(timeout=RUN_TIMEOUT)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    codes = [p.returncode for p in procs]
    said = "\n\n".join(o[-3000:] for o in outputs)
    assert 0 in codes and set(codes) <= {0, 3}, said
    assert all(("published nothing" in o) == (c == 3) for c, o in zip(codes, outputs, strict=True)), said
    if len(procs) == 1:
        assert codes == [0], said
    return outputs


@contextlib.contextmanager
def _instance(home: Path) -> Iterator[dg.DagsterInstance]:
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home / "dagster")  # the storage's base_dir (dagster.yaml)
    instance = dg.DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()
        if previous is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = previous


def _archived(home: Path) -> int:
    """Receipts written so far (one per file received; the same bytes under two names are two): a
    file's receipt is written just before its outcome is committed."""
    archive = home / "archive"
    if not archive.exists():
        return 0
    return sum(p.read_bytes().count(b"\n") for p in archive.glob("??/*.receipts.jsonl"))


def _table_digests(db: Path) -> dict[str, tuple[int, str]]:
    """Per table or view: (row count, a checksum of its content), volatile columns left out."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY ALL"
        ).fetchall()
        for schema, table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if c not in VOLATILE_COLUMNS
            ]
            row = "row(" + ", ".join(f'"{c}"' for c in columns) + ")"
            source = f'"{schema}"."{table}"'
            if table in HISTORY_TABLES:
                selected = ", ".join(f'"{c}"' for c in columns)
                source = f"(SELECT DISTINCT {selected} FROM {source} WHERE {HISTORY_TABLES[table]})"
            # a sum, not an xor: a duplicated row must change the checksum
            count, digest = con.execute(
                f"SELECT count(*), sum(hash({row})::HUGEINT) FROM {source}"
            ).fetchone()
            out[f"{schema}.{table}"] = (count, str(digest))
    return out


def _digests(home: Path) -> dict[str, dict[str, tuple[int, str]]]:
    return {
        "warehouse": _table_digests(home / "warehouse.duckdb"),
        "published": _table_digests(home / "published" / "marts.duckdb"),
    }


class Drill:
    def __init__(self, landing: Path, home_a: Path, home_b: Path):
        self.landing, self.home_a, self.home_b = landing, home_a, home_b
        self.files = list_landing(landing)
        self.after_kill: dict = {}
        self.reruns: list[str] = []  # the output of the two runs started together after the kill


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Drill:
    generated = tmp_path_factory.mktemp("generated")
    generate_submissions(generated, PERIOD, PERIOD, scale=0.002, seed=11, faults=True)
    landing = tmp_path_factory.mktemp("landing")
    for path in sorted(generated.glob(f"*_{PERIOD}.xlsx"))[:GOOD_FILES]:
        shutil.copyfile(path, landing / path.name)
    for path in (generated / FAULTS_DIR).iterdir():
        if path.suffix != ".csv":
            shutil.copyfile(path, landing / path.name)
    drill = Drill(landing, tmp_path_factory.mktemp("home_a"), tmp_path_factory.mktemp("home_b"))

    # home B: kill -9 while it loads (a third of the files archived), then inspect what it left
    victim = _start_run(drill.home_b, landing)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while _archived(drill.home_b) < len(drill.files) // 3 and victim.poll() is None:
            assert time.monotonic() < deadline, "the run never started loading"
            time.sleep(0.01)
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        victim.wait()
    assert victim.returncode == -signal.SIGKILL
    audit = audit_raw(drill.home_b / "warehouse.duckdb")  # opening it replays DuckDB's WAL
    with duckdb.connect(str(drill.home_b / "warehouse.duckdb"), read_only=True) as con:
        # a file being read when the run died is logged `pending` (being_read): it has no receipt yet
        logged = con.execute("SELECT count(*) FROM raw.submissions WHERE status <> 'pending'").fetchone()[0]
    with _instance(drill.home_b) as instance:
        [killed] = instance.get_runs()
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        drill.after_kill = {
            "audit": audit,
            "logged": logged,
            "archived": _archived(drill.home_b),
            "run_id": killed.run_id,
            "status": killed.status,
            "tags": dict(killed.tags),
            "slot_holders": info.active_run_ids,
        }
    reruns = [_start_run(drill.home_b, landing), _start_run(drill.home_b, landing)]
    _finish([_start_run(drill.home_a, landing)])  # home A meanwhile: one clean run
    drill.reruns = _finish(reruns)
    return drill


def test_crash_kill_9_mid_load_leaves_no_partial_submission(drill: Drill):
    after = drill.after_kill
    assert 0 < after["logged"] < len(drill.files), "killed while loading, not before or after"
    assert after["archived"] >= after["logged"]  # archived first, logged when its rows are in
    # every logged submission has exactly the rows its log entry records, and no row is unlogged
    assert after["audit"].ok, after["audit"].violations
    # the drill hit the known gap: the dead run still held the warehouse's one pool slot
    assert after["status"] == dg.DagsterRunStatus.STARTED
    assert after["slot_holders"] == {after["run_id"]}
    assert after["tags"][PID_TAG].isdigit()


def test_crash_rerun_after_kill_9_frees_the_slot_and_completes(drill: Drill):
    said = [" ".join(o.split()) for o in drill.reruns]  # rich wraps lines at the terminal's width
    assert any(f"run {drill.after_kill['run_id']} was killed before it ended" in o for o in said)
    with _instance(drill.home_b) as instance:
        killed = instance.get_run_by_id(drill.after_kill["run_id"])
        assert killed.status == dg.DagsterRunStatus.FAILURE
        runs = instance.get_runs()
        assert sorted(r.status.value for r in runs) == ["FAILURE", "SUCCESS", "SUCCESS"]
        assert not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots
    assert audit_raw(drill.home_b / "warehouse.duckdb").ok


def test_crash_two_runs_at_once_both_finish_one_writer_at_a_time(drill: Drill):
    # each prints the attainment table, or says the other run publishes; one of them published
    assert all("target attainment" in o or "published nothing" in o for o in drill.reruns)
    assert any("target attainment" in o for o in drill.reruns), [o[-2000:] for o in drill.reruns]
    pooled = warehouse_steps()
    with _instance(drill.home_b) as instance:
        runs = [r for r in instance.get_runs() if r.run_id != drill.after_kill["run_id"]]
        assert len(runs) == 2 and all(r.is_success for r in runs)
        windows = []
        for run in runs:
            starts, ends = {}, {}
            for event in instance.all_logs(run.run_id):
                kind = event.dagster_event and event.dagster_event.event_type_value
                if kind == "STEP_START":
                    starts[event.step_key] = event.timestamp
                elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                    ends[event.step_key] = event.timestamp
            windows.append({k: (starts[k], ends[k]) for k in starts if k in pooled})
    for a in windows[0].values():  # no two warehouse steps of the two runs overlap
        for b in windows[1].values():
            assert a[1] <= b[0] or b[1] <= a[0], windows


def test_idempotent_same_landing_gives_the_same_warehouse_and_publication(drill: Drill):
    # A: one run of the landing; B: a killed run, then two more (the last one loaded nothing)
    a, b = _digests(drill.home_a), _digests(drill.home_b)
    assert a["warehouse"].keys() == b["warehouse"].keys() and len(a["warehouse"]) > 40
    differing = {
        f"{db}:{table}": (a[db][table], b[db].get(table))
        for db in a
        for table in a[db]
        if a[db][table] != b[db].get(table)
    }
    assert not differing, differing
    with duckdb.connect(str(drill.home_a / "warehouse.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM raw.submissions GROUP BY 1").fetchall())
        for (table,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall():
            assert con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] > 0 or table == "problems"
    assert statuses.get("accepted", 0) >= GOOD_FILES and statuses.get("rejected", 0) > 0
    parquet = {p.stem: p for p in (drill.home_a / "published" / "parquet").glob("*.parquet")}
    assert {t.split(".")[1] for t in a["published"]} == set(parquet)
    with duckdb.connect(str(drill.home_a / "published" / "marts.duckdb"), read_only=True) as con:
        for table, path in parquet.items():
            rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0]
            assert rows == con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table


def test_rebuild_from_the_archive_alone_gives_the_same_warehouse_and_marts(
    drill: Drill, tmp_path_factory: pytest.TempPathFactory
):
    """The warehouse is lost: `qiangji rebuild` replays archive/ (its receipts, in the order the files
    came, under their names) and rebuilds everything; the marts are those of the lost warehouse."""
    home = tmp_path_factory.mktemp("rebuilt") / "home"
    shutil.copytree(drill.home_a, home, symlinks=True)
    (home / "warehouse.duckdb").unlink()
    empty = tmp_path_factory.mktemp("empty_landing")  # the landing folder is gone too
    done = subprocess.run(
        [QIANGJI, "rebuild", "--home", str(home), "--landing", str(empty)],
        env=_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "replayed" in done.stdout
    before, after = _digests(drill.home_a), _digests(home)
    differing = {
        f"{db}:{table}": (before[db][table], after[db].get(table))
        for db in ("published",)
        for table in before[db]
        if before[db][table] != after[db].get(table)
    }
    assert not differing, differing
    raw = {t: d for t, d in before["warehouse"].items() if t.startswith("raw.")}
    assert raw and all(after["warehouse"][t] == d for t, d in raw.items()), raw


# --- privacy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("home_name", ["home_a", "home_b"])
def test_privacy_no_national_id_or_name_outside_the_archive(drill: Drill, home_name: str):
    home = getattr(drill, home_name)
    ids, names = identities(drill.landing)
    assert len(ids) > 500 and len(names) > 500
    leaks: list[str] = []
    scanned = {"duckdb": 0, "parquet": 0, "other": 0}
    needles = needles_of(ids | names)
    for path in sorted(home.rglob("*")):
        if not path.is_file() or "archive" in path.relative_to(home).parts[:1]:
            continue  # the raw archive keeps the files as received, by design
        if path.suffix == ".duckdb":
            leaks += leaks_in_duckdb(path, ids, names)
            scanned["duckdb"] += 1
        elif path.suffix == ".parquet":
            leaks += leaks_in_parquet(path, ids, names)
            scanned["parquet"] += 1
        else:  # CSVs, logs, Dagster's run and event storage and compute logs, GX results, HTML
            data = path.read_bytes()
            leaks += [f"{path.relative_to(home)}" for n in needles if n in data][:1]
            scanned["other"] += 1
    for run_file in (ROOT / "dbt_project" / "target").glob("run_results.json"):
        data = run_file.read_bytes()
        leaks += [str(run_file) for n in needles if n in data][:1]
    assert not leaks, leaks
    assert scanned["duckdb"] >= 2 and scanned["parquet"] >= 5 and scanned["other"] >= 10, scanned
