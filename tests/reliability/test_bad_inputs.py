"""Bad input: every structural error and row rule of the spec, and files built to break a reader.

One landing folder holds them all — the fault generator's files, the cases of
`tests/support/badfiles.py` and six valid submissions of other districts — and ONE ingest
(`ingest_landing`, the library `qiangji run` uses) loads it. Each case then has its own test: the
file got its documented outcome and problem (rule, sheet, Excel row, column), the run did not stop,
and the valid submissions loaded exactly as they load alone.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import duckdb
import polars as pl
import pytest

from generator import generate_submissions
from generator.faults import FAULTS_DIR, FILES_FILE, MANIFEST_FILE, NOT_PLANTED
from ingest.archive import read_receipts
from ingest.errors import RULES
from ingest.pipeline import audit_raw, ingest_landing, list_landing, shown_landing_name
from ingest.settings import IngestSettings
from ingest.spec import DATA_SHEETS
from tests.support.badfiles import MAX_FILE_BYTES, MAX_ZIP_EXPANDED_BYTES, Case, build_cases
from tests.support.cli import TEST_KEY
from tests.support.privacy import identities, leaks_in_duckdb

KEY = TEST_KEY.encode()
SETTINGS = IngestSettings(max_file_bytes=MAX_FILE_BYTES, max_zip_expanded_bytes=MAX_ZIP_EXPANDED_BYTES)
FAULT_PERIOD = "2007H2"
GOOD_DISTRICTS = ["120102", "120103", "120105", "120106", "120110", "XT01"]
STRUCTURAL = {
    "file_name",
    "unknown_district",
    "unreadable_file",
    "file_too_large",
    "zip_limits",
    "unsafe_entry",
    "missing_sheet",
    "duplicate_sheet",
    "duplicate_column",
    "missing_column",
    "empty_sheet",
    "cover_mismatch",
    "committee_count",
    "too_many_row_errors",
    "version_conflict",
    "unpacked_limits",
    "sheet_too_large",
    "too_many_rows",
}
# Rules of the run, not of a file's content: each has its test in test_adversarial.py
# (a link or a FIFO in the landing folder; a reader that crashes, runs out of memory or time).
RUN_RULES = {"not_a_regular_file", "reader_memory", "reader_timeout", "reader_crashed"}
STRUCTURAL |= RUN_RULES
WARNINGS = {"extra_column", "dangling_covering_org", "cross_district_duplicate"}
ROW_RULES = [r for r in RULES if r not in STRUCTURAL | WARNINGS]
GENERATED_STRUCTURAL = sorted(STRUCTURAL - set(NOT_PLANTED) - RUN_RULES)

# The cases are built once at collection (their ids parametrize the tests) and copied per run.
_PREBUILT = Path(tempfile.mkdtemp(prefix="qiangji-badfiles-"))
CASES: dict[str, Case] = {c.id: c for c in build_cases(_PREBUILT)}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Run:
    """What one ingest of the whole landing folder left in the warehouse."""

    def __init__(
        self, home: Path, landing: Path, manifest: list[dict[str, str]], files: list[dict[str, str]]
    ):
        self.home, self.landing, self.manifest, self.files = home, landing, manifest, files
        self.warehouse = home / "warehouse.duckdb"
        self.entries = list_landing(landing)
        self.outcomes = ingest_landing(self.entries, self.warehouse, home / "archive", KEY, SETTINGS)
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            self.submissions = con.sql("SELECT * FROM raw.submissions").pl()
            self.problems = con.sql("SELECT * FROM raw.problems").pl()

    def submission(self, file: str) -> dict:
        rows = self.submissions.filter(pl.col("file_name") == shown_landing_name(Path(file)))
        assert rows.height == 1, f"{file!r}: {rows.height} log entries"
        return rows.row(0, named=True)

    def problems_of(self, file: str) -> pl.DataFrame:
        return self.problems.filter(pl.col("submission_id") == self.submission(file)["submission_id"])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    generated = tmp_path_factory.mktemp("generated")
    generate_submissions(generated, FAULT_PERIOD, FAULT_PERIOD, scale=0.002, seed=7, faults=True)
    landing = tmp_path_factory.mktemp("landing")
    for district in GOOD_DISTRICTS:
        shutil.copyfile(
            generated / f"{district}_{FAULT_PERIOD}.xlsx", landing / f"{district}_{FAULT_PERIOD}.xlsx"
        )
    faults = generated / FAULTS_DIR
    for path in faults.iterdir():
        if path.suffix != ".csv":
            shutil.copyfile(path, landing / path.name)
    shutil.copytree(_PREBUILT, landing, symlinks=True, dirs_exist_ok=True)
    shutil.rmtree(_PREBUILT, ignore_errors=True)
    home = tmp_path_factory.mktemp("home")
    return Run(home, landing, _read_csv(faults / MANIFEST_FILE), _read_csv(faults / FILES_FILE))


def _located(problems: pl.DataFrame, rule: str, sheet=None, row=None, column=None) -> pl.DataFrame:
    found = problems.filter(pl.col("rule") == rule)
    for name, value in (("sheet", sheet), ("excel_row", row), ("column_header", column)):
        if value is not None:
            found = found.filter(pl.col(name) == value)
    return found


def _outcome(entry: dict) -> str:
    """accepted: its rows were loaded (it may have been superseded since by a later version)."""
    loaded = entry["status"] in ("accepted", "superseded") and entry["rows_members"] is not None
    return "accepted" if loaded else entry["status"]


# --- the run as a whole --------------------------------------------------------------------------


def test_one_run_takes_every_file_and_keeps_the_warehouse_consistent(run: Run):
    # nothing crashed: every landing entry has its outcome and its log entry, and nothing was lost
    assert len(run.outcomes) == len(run.entries)
    logged = [o for o in run.outcomes if o.status != "unchanged"]  # the same bytes again: one submission
    assert len(logged) == run.submissions.height == len({o.submission_id for o in run.outcomes})
    # the same bytes under two names are two receipts (a renamed file is judged anew), never one name twice
    assert run.submissions.select("sha256", "file_name").n_unique() == run.submissions.height
    archived = {p.name for p in (run.home / "archive").glob("??/*") if not p.name.endswith(".receipts.jsonl")}
    # over the size limits (a file, a folder) or not a file: logged, left in the landing, not copied
    unkept = {r.sha256 for r in read_receipts(run.home / "archive") if not r.kept}
    assert set(run.submissions["sha256"]) - unkept == archived
    assert unkept <= set(run.submissions.filter(pl.col("status") == "rejected")["sha256"])
    receipts = {p.name.removesuffix(".receipts.jsonl") for p in (run.home / "archive").glob("??/*.jsonl")}
    assert receipts == set(run.submissions["sha256"])  # every outcome has its receipt, kept or not
    assert audit_raw(run.warehouse).ok


def test_the_valid_submissions_of_the_same_run_load_unharmed(run: Run, tmp_path: Path):
    good = [run.landing / f"{d}_{FAULT_PERIOD}.xlsx" for d in GOOD_DISTRICTS]
    alone = tmp_path / "alone.duckdb"
    ingest_landing(good, alone, tmp_path / "archive", KEY, SETTINGS)
    ids = run.submissions.filter(pl.col("file_name").is_in([p.name for p in good]))
    assert ids["status"].to_list() == ["accepted"] * len(good)
    with duckdb.connect(str(alone), read_only=True) as con:
        con.execute(f"ATTACH '{run.warehouse}' AS mixed (READ_ONLY)")
        for table in ["submissions", "problems", *[s.table for s in DATA_SHEETS]]:
            exclude = " EXCLUDE (received_at)" if table == "submissions" else ""
            query = (
                f"SELECT *{exclude} FROM {{db}}.raw.{table} WHERE submission_id IN "
                "(SELECT submission_id FROM alone.raw.submissions) ORDER BY ALL"
            )
            assert (
                con.sql(query.format(db="alone")).fetchall() == con.sql(query.format(db="mixed")).fetchall()
            ), table
            assert con.sql(query.format(db="alone")).fetchall() or table == "problems"


def test_every_rule_of_the_spec_has_a_case():
    planted_here = {c.rule for c in CASES.values()}
    assert set(RULES) - set(GENERATED_STRUCTURAL) - set(ROW_RULES) - WARNINGS - planted_here <= {
        "cross_district_duplicate",  # a mart of the warehouse, tested with the marts (dbt)
        *RUN_RULES,  # test_adversarial.py
    }
    assert not set(NOT_PLANTED) - planted_here - {"cross_district_duplicate"} - RUN_RULES
    assert len(CASES) + len(GENERATED_STRUCTURAL) + len(ROW_RULES) >= 40


# --- the cases built here ---------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", list(CASES))
def test_bad_input_case(run: Run, case_id: str):
    case = CASES[case_id]
    if case.outcome == "skipped":
        assert not (run.submissions["file_name"] == shown_landing_name(Path(case.file))).any()
        assert (run.landing / case.file).exists()  # left for the next run, once complete
        return
    if case.outcome == "unchanged":
        assert [o.status for o in run.outcomes if o.file_name == case.file] == ["unchanged"]
        assert not (run.submissions["file_name"] == case.file).any()
        return
    entry = run.submission(case.file)
    problems = run.problems_of(case.file)
    errors = problems.filter(pl.col("severity") != "warning")
    assert _outcome(entry) == case.outcome, (entry["reason_rule"], errors.head(5).rows())
    if case.outcome == "rejected":
        assert entry["reason_rule"] == case.rule
        assert entry["reason"] and " / " in entry["reason"]  # the message in Chinese and English
        assert all(entry[f"rows_{s.table}"] is None for s in DATA_SHEETS)  # no row of it is loaded
    if case.rule is None:
        assert errors.is_empty(), errors.rows()
        return
    found = _located(problems, case.rule, case.sheet, case.row, case.column)
    assert found.height >= 1, (case.rule, case.sheet, case.row, case.column, problems.rows())
    if case.value is not None:
        assert case.value in found["value"].to_list()
    assert found["message_zh"].is_not_null().all() and found["message_en"].is_not_null().all()
    if case.outcome == "accepted":  # the bad cell's row is quarantined, its neighbours are not
        assert entry["quarantined_rows"] == errors.select("sheet", "excel_row").n_unique() > 0


# --- the fault generator's files ----------------------------------------------------------------------


@pytest.mark.parametrize("rule", GENERATED_STRUCTURAL)
def test_structural_error(run: Run, rule: str):
    files = {
        line["file"] for line in run.manifest if line["rule"] == rule and line["severity"] == "structural"
    }
    assert files, f"the generator planted no {rule}"
    # a file with the bytes of one already received changes nothing ("unchanged", logged once)
    unchanged = {o.file_name for o in run.outcomes if o.status == "unchanged"}
    lines = [x for x in run.manifest if x["file"] in files - unchanged and x["severity"] == "structural"]
    assert lines or any(c.rule == rule for c in CASES.values()), f"no file checks {rule}"
    for line in lines:
        entry = run.submission(line["file"])
        assert (_outcome(entry), entry["reason_rule"]) == ("rejected", line["rule"]), line
        problem = _located(
            run.problems_of(line["file"]),
            line["rule"],
            line["sheet"] or None,
            int(line["row"]) if line["row"] else None,
            line["column"] or None,
        ).filter(pl.col("severity") == "structural")
        assert problem.height == 1, (line, run.problems_of(line["file"]).rows()[:5])


@pytest.mark.parametrize("rule", ROW_RULES)
def test_row_rule(run: Run, rule: str):
    if rule in NOT_PLANTED:
        cases = [c for c in CASES.values() if c.rule == rule]
        assert cases, f"no case plants {rule}"  # checked by test_bad_input_case, one case each
        return
    lines = [x for x in run.manifest if x["rule"] == rule and x["severity"] == "row"]
    assert lines, f"the generator planted no {rule}"
    for line in lines:
        entry = run.submission(line["file"])
        found = _located(run.problems_of(line["file"]), rule, line["sheet"], int(line["row"]), line["column"])
        assert found.height == 1 and found["severity"].to_list() == ["row"], line
        if _outcome(entry) == "accepted":
            with duckdb.connect(str(run.warehouse), read_only=True) as con:
                table = next(s.table for s in DATA_SHEETS if s.name == line["sheet"])
                quarantined = con.execute(
                    f"SELECT quarantined FROM raw.{table} WHERE submission_id = ? AND source_row = ?",
                    [entry["submission_id"], int(line["row"])],
                ).fetchall()
            assert quarantined == [(True,)], line


@pytest.mark.parametrize("rule", sorted(WARNINGS - set(NOT_PLANTED)))
def test_warning(run: Run, rule: str):
    lines = [x for x in run.manifest if x["rule"] == rule]
    assert lines
    for line in lines:
        assert _outcome(run.submission(line["file"])) == "accepted"
        found = _located(run.problems_of(line["file"]), rule, line["sheet"], None, line["column"] or None)
        assert found.height >= 1 and set(found["severity"]) == {"warning"}, line


def test_the_generators_accepted_files_have_no_error(run: Run):
    accepted = [f["file"] for f in run.files if f["outcome"] == "accepted"]
    with_rows = {x["file"] for x in run.manifest if x["severity"] == "row"}
    assert len(accepted) >= 8
    for file in accepted:
        entry = run.submission(file)
        assert _outcome(entry) == "accepted", (file, entry["reason_rule"])
        if file not in with_rows:
            assert entry["quarantined_rows"] == 0, file


def test_privacy_bad_input_never_puts_an_id_or_a_name_in_the_warehouse(run: Run):
    """Problems quote the offending value: a national ID only masked, a name never."""
    ids, names = identities(run.landing)
    assert len(ids) > 100 and len(names) > 100
    assert not leaks_in_duckdb(run.warehouse, ids, names)
    masked = run.problems.filter(pl.col("column_header") == "公民身份号码")["value"].drop_nulls()
    assert masked.len() > 10 and masked.str.contains(r"\*", literal=False).all()  # 120104********1234
