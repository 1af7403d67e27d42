"""Crash drills of publishing, with real processes: the disk fills up, BI tools read meanwhile.

`publish_marts` writes every file aside and renames it into place (ingest/publish.py). The
drills: a publication that runs out of disk (a small tmpfs, or a file-size limit where mounting
is not allowed) leaves the previous one byte for byte; BI readers — one holding the published
files open, one reconnecting in a loop — never see an error or a half-written publication.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.support.cli import ROOT
from warehouse.publish import publish_marts

TABLES = ["mart_x", "dim_y"]
PUBLISH = "import sys; from pathlib import Path; from warehouse.publish import publish_marts; " + (
    "publish_marts(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])"
)


def _warehouse(path: Path, label: str, rows: int) -> None:
    """A warehouse whose marts hold `rows` rows labelled `label` (random text: it does not compress)."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE mart_x AS SELECT range AS n, ? AS label, "
            "md5(random()::VARCHAR) || md5(random()::VARCHAR) AS filler FROM range(?)",
            [label, rows],
        )
        con.execute("CREATE OR REPLACE TABLE dim_y AS SELECT ? AS label", [label])


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _publish_in_process(warehouse: Path, published: Path, preexec: Callable[[], None] | None = None):
    return subprocess.run(
        [sys.executable, "-c", PUBLISH, str(warehouse), str(published), *TABLES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=preexec,
        timeout=300,
    )


def _mount_tmpfs(mountpoint: Path, size: int) -> bool:
    mountpoint.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)], capture_output=True
    )
    return result.returncode == 0


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child: a write past `limit` fails with EFBIG instead of killing it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("fills_at", ["database", "csv"])
def test_crash_disk_full_during_publish_keeps_the_previous_publication(tmp_path: Path, fills_at: str):
    warehouse, trial = tmp_path / "warehouse.duckdb", tmp_path / "trial"
    _warehouse(warehouse, "second", 100_000)
    publish_marts(warehouse, trial, TABLES)  # how much the second publication writes, file by file
    sizes = {p.name: p.stat().st_size for p in trial.rglob("*") if p.is_file()}
    _warehouse(warehouse, "first", 10)

    disk = tmp_path / "disk"
    old_size = 2 << 20
    room = {
        "database": old_size + sizes["marts.duckdb"] // 2,
        "csv": old_size + sizes["marts.duckdb"] + sizes["mart_x.parquet"] + sizes["mart_x.csv"] // 2,
    }[fills_at]
    mounted = _mount_tmpfs(disk, room)
    try:
        published = disk / "published"
        publish_marts(warehouse, published, TABLES)
        before = _snapshot(published)
        _warehouse(warehouse, "second", 100_000)
        limit = _file_size_limit(
            sizes["marts.duckdb"] // 2 if fills_at == "database" else sizes["mart_x.csv"] // 2
        )
        result = _publish_in_process(warehouse, published, None if mounted else limit)

        assert result.returncode != 0, "the publication must fail: the disk is full"
        assert "No space left on device" in result.stderr or "File too large" in result.stderr, result.stderr[
            -2000:
        ]
        assert _snapshot(published) == before  # every file of the previous publication, byte for byte
        with duckdb.connect(str(published / "marts.duckdb"), read_only=True) as con:
            assert con.execute("SELECT DISTINCT label FROM mart_x").fetchall() == [("first",)]
        assert not list(published.rglob("*.partial")), "the failed attempt cleaned up after itself"
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=True)


READER = textwrap.dedent(
    """
    import json, sys, duckdb, polars as pl
    db, parquet = sys.argv[1], sys.argv[2]
    con = duckdb.connect(db, read_only=True)          # a BI tool with the marts open
    held = open(parquet, "rb")                        # and a Parquet file it is reading
    def state():
        row = con.execute("SELECT min(label), max(label), count(*) FROM mart_x").fetchone()
        return [row[0], row[1], row[2], pl.read_parquet(held)["label"].unique().to_list()]
    print(json.dumps(state()), flush=True)
    sys.stdin.readline()                              # meanwhile: a new publication
    print(json.dumps(state()), flush=True)
    """
)


def test_crash_bi_reader_holding_the_published_files_is_undisturbed(tmp_path: Path):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "published"
    _warehouse(warehouse, "first", 1_000)
    publish_marts(warehouse, published, TABLES)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            READER,
            str(published / "marts.duckdb"),
            str(published / "parquet" / "mart_x.parquet"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        first = json.loads(reader.stdout.readline())
        _warehouse(warehouse, "second", 2_000)
        result = _publish_in_process(warehouse, published)  # while the reader holds the files
        assert result.returncode == 0, result.stderr[-2000:]
        out, err = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0, err[-2000:]
    assert first == json.loads(out) == ["first", "first", 1_000, ["first"]]  # its view never changed
    with duckdb.connect(str(published / "marts.duckdb"), read_only=True) as con:  # a new reader: new data
        assert con.execute("SELECT min(label), count(*) FROM mart_x").fetchone() == ("second", 2_000)


POLLER = textwrap.dedent(
    """
    import json, os, sys, duckdb, polars as pl
    db, parquet, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    seen_db, seen_parquet, errors, ready = set(), set(), [], False
    while True:                                       # a dashboard refreshing as fast as it can
        stopping = os.path.exists(stop)               # then one last read, of the last publication
        try:
            with duckdb.connect(db, read_only=True) as con:
                row = con.execute("SELECT min(label), max(label), count(*) FROM mart_x").fetchone()
            seen_db.add(json.dumps(row))
            with open(parquet, "rb") as f:            # one open: one version of the file
                frame = pl.read_parquet(f)
            seen_parquet.add(json.dumps([sorted(frame["label"].unique().to_list()), frame.height]))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        if not ready:
            ready = print("ready", flush=True) or True
        if stopping:
            break
    print(json.dumps({"db": sorted(seen_db), "parquet": sorted(seen_parquet), "errors": errors[:5]}))
    """
)


def test_crash_bi_reader_reconnecting_during_publishes_sees_whole_publications(tmp_path: Path):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "published"
    sizes = {"first": 5_000, "second": 20_000}
    _warehouse(warehouse, "first", sizes["first"])
    publish_marts(warehouse, published, TABLES)
    stop = tmp_path / "stop"
    poller = subprocess.Popen(
        [
            sys.executable,
            "-c",
            POLLER,
            *(str(p) for p in (published / "marts.duckdb", published / "parquet" / "mart_x.parquet", stop)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert poller.stdout.readline().strip() == "ready"
        for label in ["second", "first", "second", "first", "second"]:
            _warehouse(warehouse, label, sizes[label])
            result = _publish_in_process(warehouse, published)
            assert result.returncode == 0, result.stderr[-2000:]
        stop.touch()
        out, err = poller.communicate(timeout=120)
        out = out.strip().splitlines()[-1]
    finally:
        poller.kill()
    assert poller.returncode == 0, err[-2000:]
    report = json.loads(out)
    assert report["errors"] == [], report
    # each file is a whole publication, old or new: never a mix, never half a file
    assert set(report["db"]) == {json.dumps([label, label, n]) for label, n in sizes.items()}, report
    assert set(report["parquet"]) == {json.dumps([[label], n]) for label, n in sizes.items()}, report
