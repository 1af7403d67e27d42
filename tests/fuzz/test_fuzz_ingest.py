"""Fuzzing the ingest (issue #15): any mutation of a valid submission leaves the run standing.

Hypothesis draws a valid submission of 南开区 (a workbook, a zip of CSVs or a folder of CSVs, in
UTF-8, UTF-8 with a BOM or GB18030), mutates it (`tests/fuzz/mutations.py`: bytes, XML parts,
zip entries, sizes, CSV encodings and line breaks, names) and puts it in a landing folder next to
two valid submissions of other districts. One `ingest_landing` (what `qiangji run` runs: real
files, a real DuckDB warehouse, real reader processes) takes the folder, and:

- the run survives: `ingest_landing` returns, one outcome per landing entry;
- every entry ends accepted, rejected (with a rule of `ingest.errors.RULES`), superseded,
  unchanged or pending (with an attempt counted); its log entry says the same;
- the neighbours load exactly as they load alone (status, rows per table, quarantined rows);
- nothing is lost: the mutated file's receipt is in the archive, and its bytes unless it was
  refused for its size; a pending file stays in the landing folder;
- the raw layer holds its invariants (`audit_raw`), no file name keeps an ID-shaped token;
- memory and time stay bounded: the run's own peak RSS grows by at most `PARENT_MEMORY_BOUND`,
  readers by at most their RLIMIT_AS, and the run ends within the readers' time limits.

The limits are lowered as in `tests/reliability` (4 MiB per file, 16 MiB expanded) and the
readers get 4 GiB of address space (a reader's virtual size is ≈2.8 GB once polars and fastexcel
are loaded) and 30 s: a bomb ends in its reader at once.

Each example is one run (≈0.2-1 s with the process's shared readers; the first starts them).
`make test` runs the explicit examples and `QIANGJI_FUZZ_EXAMPLES` (40) derandomized ones, the same
every time (≈30 s); `make fuzz` runs 300 random ones (`QIANGJI_FUZZ_RANDOM=1`), keeping failures in
`tests/artifacts/hypothesis/` to replay them first next time. A failure prints the sample as Python
(`Sample(seed=…, mutations=(…), name=…)`): paste it into an `@example` below.
"""

from __future__ import annotations

import functools
import gc
import os
import re
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from ingest import archive
from ingest.errors import RULES, StructuralError
from ingest.landing import is_candidate_name
from ingest.pipeline import audit_raw, ingest_landing, list_landing, parse_name
from ingest.settings import IngestSettings
from tests.fuzz.mutations import (
    AddPart,
    InPart,
    PadTo,
    PatchZip,
    Sample,
    SetCellRef,
    build_seeds,
    samples,
)
from tests.support.badfiles import MAX_FILE_BYTES, MAX_ZIP_EXPANDED_BYTES, PERIOD, csv_entries, write_zip
from tests.support.builders import minimal_sheets, write_xlsx
from warehouse.privacy import ID_TOKEN

KEY = b"f" * 32
SETTINGS = IngestSettings(
    max_file_bytes=MAX_FILE_BYTES,
    max_zip_expanded_bytes=MAX_ZIP_EXPANDED_BYTES,
    reader_memory_bytes=4 << 30,
    reader_timeout_seconds=30.0,
)
STATUSES = {"accepted", "rejected", "superseded", "unchanged", "pending"}
NEIGHBOURS = ("120101", "120102")  # of PERIOD: a workbook and a zip of CSVs
PARENT_MEMORY_BOUND = 512 << 20  # what one run may add to the ingesting process's peak RSS

EXAMPLES = int(os.environ.get("QIANGJI_FUZZ_EXAMPLES", "40"))
RANDOM = os.environ.get("QIANGJI_FUZZ_RANDOM", "") not in ("", "0")  # make fuzz: new examples each run
MEMBERS_SHEET = "xl/worksheets/sheet4.xml"  # 党员, the 4th sheet of the seed workbook
DATABASE = Path(__file__).resolve().parents[1] / "artifacts" / "hypothesis"  # git-ignored


@functools.cache
def seeds():
    return build_seeds()


@dataclass(frozen=True)
class Neighbour:
    name: str
    status: str
    rows: dict[str, int]
    quarantined_rows: int


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Neighbour]]:
    """The two valid submissions of other districts, and what they get when ingested alone."""
    folder = tmp_path_factory.mktemp("neighbours")
    write_xlsx(folder / f"{NEIGHBOURS[0]}_{PERIOD}.xlsx", minimal_sheets(NEIGHBOURS[0], PERIOD))
    texts = csv_entries(minimal_sheets(NEIGHBOURS[1], PERIOD))
    write_zip(folder / f"{NEIGHBOURS[1]}_{PERIOD}.zip", [(n, t.encode()) for n, t in texts.items()])
    home = tmp_path_factory.mktemp("alone")
    entries = list_landing(folder)
    alone = ingest_landing(entries, home / "warehouse.duckdb", home / "archive", KEY, SETTINGS)
    found = [
        Neighbour(p.name, o.status, o.rows, o.quarantined_rows) for p, o in zip(entries, alone, strict=True)
    ]
    assert [n.status for n in found] == ["accepted", "accepted"], [o.reason for o in alone]
    return folder, found


def _names_a_neighbour(path: Path) -> bool:
    """Whether a name says one of the neighbours' (unit, period): another version of theirs, which
    may rightly change what they get (a version conflict) — not what this harness looks at."""
    try:
        name = parse_name(path)
    except (StructuralError, OSError):
        return False
    return name.district_code in NEIGHBOURS and str(name.period) == PERIOD


def _peak_rss_reset() -> int:
    """Reset this process's peak RSS (Linux: /proc/self/clear_refs) and return the current RSS."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # no reset: the peak since the process started (a looser bound)
        pass
    return _status_kib("VmRSS") << 10


def _peak_rss() -> int:
    return _status_kib("VmHWM") << 10


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+)", f.read(), re.M).group(1))  # type: ignore[union-attr]


def _outcome_event(status: str, reason) -> str:
    """The mutated file's outcome, for `--hypothesis-show-statistics` (the exception's type of an
    unreadable file: an error no rule foresaw shows up here)."""
    if reason is None:
        return f"outcome: {status}"
    detail = (
        f" {reason.value}" if reason.rule in ("unreadable_file", "reader_crashed") and reason.value else ""
    )
    return f"outcome: {status} {reason.rule}{detail}"


def _over_the_limits(path: Path) -> bool:
    """What the archive hashes without keeping: a file over `max_file_bytes`, a folder over
    `max_zip_entries` files or `max_zip_expanded_bytes` (its rule may be another: a bad name is
    told first)."""
    if not path.is_dir():
        return path.stat().st_size > SETTINGS.max_file_bytes
    files = [p for p in path.iterdir() if p.is_file() and not p.is_symlink()]
    total = sum(p.stat().st_size for p in files)
    return len(files) > SETTINGS.max_zip_entries or total > SETTINGS.max_zip_expanded_bytes


def _same_bytes(archived: Path, received: Path) -> bool:
    if received.is_dir():
        files = {p.name: p.read_bytes() for p in received.iterdir() if p.is_file() and not p.is_symlink()}
        return archived.is_dir() and files == {p.name: p.read_bytes() for p in archived.iterdir()}
    return archived.is_file() and archived.read_bytes() == received.read_bytes()


# --- the property ------------------------------------------------------------------------------------


@pytest.mark.fuzz
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=DirectoryBasedExampleDatabase(str(DATABASE)) if RANDOM else None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
@given(sample=st.deferred(lambda: samples(seeds())))
# the classics, every time: a cell at Excel's last column and row, a file just over the size
# limit, a workbook whose shared strings expand to 64 MiB
@example(sample=Sample("xlsx", (InPart(MEMBERS_SHEET, SetCellRef(0, "XFD1048576")),), "120104_2008H1.xlsx"))
@example(sample=Sample("zip_utf8", (PadTo(MAX_FILE_BYTES + 1),), "120104_2008H1.zip"))
@example(sample=Sample("xlsx", (AddPart("xl/sharedStrings.xml", 64 << 20, "xml"),), "120104_2008H1_v2.xlsx"))
# found by this harness: a zip whose central directory asks for zip version 6.4 (zipfile raises
# NotImplementedError, which the run's own look at the zip's size did not catch: the run stopped)
@example(
    sample=Sample(
        "zip_utf8", (PatchZip("central", "version_needed", 64, "members.csv"),), "120104_2008H1.zip"
    )
)
# found by this harness: a name holding U+0085 (or U+2028, U+2029) — its receipt is written as one
# JSON line, but read back with str.splitlines(), which also splits there: the receipt was lost
@example(sample=Sample("xlsx", (), "\x85"))
def test_ingest_survives_a_mutated_submission(
    sample: Sample, neighbours: tuple[Path, list[Neighbour]], tmp_path_factory: pytest.TempPathFactory
):
    valid_folder, valid = neighbours
    work = Path(tempfile.mkdtemp(prefix="fuzz-", dir=tmp_path_factory.getbasetemp()))
    try:
        _check(sample, valid_folder, valid, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check(sample: Sample, valid_folder: Path, valid: list[Neighbour], work: Path) -> None:
    landing, warehouse, archive_dir = work / "landing", work / "warehouse.duckdb", work / "archive"
    landing.mkdir()
    for n in valid:
        shutil.copyfile(valid_folder / n.name, landing / n.name)
    mutated = sample.write(seeds(), landing)
    assume(not _names_a_neighbour(mutated))
    entries = list_landing(landing)
    listed = mutated in entries
    if not listed:  # a hidden or `.part` name: an upload in progress, left for a later run
        assert not is_candidate_name(mutated.name)

    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10
    before = _peak_rss_reset()
    started = time.monotonic()
    outcomes = ingest_landing(entries, warehouse, archive_dir, KEY, SETTINGS)  # the run survives
    elapsed = time.monotonic() - started
    grown = _peak_rss() - before

    # one outcome per entry, each with its status (and rule, or attempt)
    assert len(outcomes) == len(entries)
    by_entry = dict(zip(entries, outcomes, strict=True))
    for o in outcomes:
        assert o.status in STATUSES, o
        if o.status == "rejected":
            assert o.reason is not None and o.reason.rule in RULES, o
        if o.status == "pending":
            assert o.attempts >= 1, o
        assert not ID_TOKEN.search(o.file_name), f"an ID-shaped token in the name shown: {o.file_name!r}"

    # the neighbours load as they load alone
    for n in valid:
        o = by_entry[landing / n.name]
        assert (o.status, o.rows, o.quarantined_rows) == (n.status, n.rows, n.quarantined_rows), (
            f"{n.name}: {o.status} {o.reason} {o.rows} (alone: {n.status} {n.rows})"
        )

    if listed:
        o = by_entry[mutated]
        event(_outcome_event(o.status, o.reason))
        with duckdb.connect(str(warehouse), read_only=True) as con:
            logged = con.execute(
                "SELECT status, reason_rule, file_name FROM raw.submissions WHERE submission_id = ?",
                [o.submission_id],
            ).fetchall()
        if o.status != "unchanged":
            assert len(logged) == 1, f"{o.submission_id}: {len(logged)} log entries"
            status, rule, file_name = logged[0]
            assert status == o.status
            assert not ID_TOKEN.search(file_name)
            if o.status == "rejected":
                assert rule == o.reason.rule  # type: ignore[union-attr]
        # nothing lost: the receipt, and the bytes unless refused for their size
        if o.status == "pending":
            assert mutated.exists()
        else:
            sha = archive.sha256_of(mutated)
            receipts = archive.receipts_of(archive_dir, sha)
            assert receipts, f"no receipt for {sample.name!r}"
            if receipts[-1].kept:
                assert _same_bytes(archive.entry_path(archive_dir, sha), mutated)
            else:  # hashed, not kept: only what is over the size limits
                assert o.status == "rejected" and _over_the_limits(mutated), o

    assert audit_raw(warehouse).ok, audit_raw(warehouse).violations

    # memory and time
    assert grown <= PARENT_MEMORY_BOUND, f"the run's RSS grew by {grown >> 20} MiB"
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10  # the largest child ever
    if children > children_before:  # a reader of this run
        assert children <= SETTINGS.reader_memory_bytes, f"a reader reached {children >> 20} MiB"
    assert elapsed <= len(entries) * SETTINGS.reader_timeout_seconds + 60, f"the run took {elapsed:.0f} s"
