"""Privacy of IDs typed where they do not belong, and of a file named after a person.

One `qiangji run` over a landing folder of two hand-made workbooks:
- `120104_2007H1.xlsx`, valid but for IDs planted in wrong columns: a valid ID in a 党员 row's
  所在组织编码 (a code), another in its 入党日期 (a date), one ending in X in a 单位名称 (free
  text stored with the rows), a first-generation 15-digit number in an 活动's 主题, and an 18-digit
  number whose checksum fails in a 党员's 职业; and, apart, a first-generation ID typed as a
  number in a 单位's 职工人数 (a number column: no text masking reaches it);
- `张三_120106198503150017.xlsx`, a copy of a valid workbook under a name a clerk typed (a name
  and an ID, not the submission pattern).
Nothing the run wrote outside archive/ may hold any of them, nor the ID-column IDs and names of
the workbooks: every column of every DuckDB file (warehouse and published) and Parquet file, and
the bytes of every other file (CSVs, Dagster's storage, event log and compute logs, GX results,
Data Docs, the dashboard, logs/dbt.log), dbt's run_results.json and what dbt appended to its own
log in the project during the run, and what the command printed.

Then, without a run: the GX side alone (suites, audit rows, Data Docs) over a warehouse whose
masking failed, as defence in depth.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ingest.identity import is_valid_id, upgrade_15
from tests.support.builders import make_id, minimal_sheets, write_xlsx
from tests.support.cli import QIANGJI, ROOT, cli_env
from tests.support.privacy import identities, leaks_in_bytes, scan_home
from warehouse.privacy import mask_ids_in_text

RUN_TIMEOUT = int(os.environ.get("QIANGJI_DRILL_TIMEOUT", "1200"))
KEY = "privacy-everywhere-test-key-not-a-secret"  # 40 bytes: a key must have 32 at least

IN_ORG_CODE = make_id("120104", dt.date(1979, 4, 1), 7, True)  # 党员 所在组织编码
IN_DATE = make_id("120105", dt.date(1990, 12, 24), 8, False)  # 党员 入党日期
IN_UNIT_NAME = "11010519491231002X"  # 单位 单位名称, GB 11643's own example (ends in X)
FIFTEEN = "120104800101123"  # 活动 主题: first generation
IN_NUMBER = "110105491231002"  # 单位 职工人数, as a number: 15 digits are exact in Excel's doubles
BAD_CHECKSUM = IN_ORG_CODE[:-1] + ("1" if IN_ORG_CODE[-1] != "1" else "2")  # 党员 职业
FILE_ID, FILE_PERSON = "120106198503150017", "张三"
FILE_NAME = f"{FILE_PERSON}_{FILE_ID}.xlsx"
# every form each may take: as typed, X in lower case, the 15-digit one as its 18-character form
PLANTED = {
    IN_ORG_CODE,
    IN_DATE,
    IN_UNIT_NAME,
    IN_UNIT_NAME.lower(),
    FIFTEEN,
    upgrade_15(FIFTEEN),
    BAD_CHECKSUM,
    FILE_ID,
    FILE_PERSON,
}


class Run:
    def __init__(self, landing: Path, home: Path, output: str, dbt_log: bytes):
        self.landing, self.home, self.output, self.dbt_log = landing, home, output, dbt_log


def _planted_workbook() -> dict[str, list[dict[str, object]]]:
    sheets = minimal_sheets("120104", "2007H1")
    members = sheets["党员"]
    members[0]["所在组织编码"] = IN_ORG_CODE
    members[1]["入党日期"] = IN_DATE
    members[2]["职业"] = BAD_CHECKSUM
    sheets["单位"][2]["单位名称"] = f"乙村{IN_UNIT_NAME}"
    sheets["活动"][0]["主题"] = f"研究强基创先工程 {FIFTEEN}"
    sheets["单位"][3]["职工人数"] = int(IN_NUMBER)
    return sheets


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    assert is_valid_id(IN_ORG_CODE) and is_valid_id(IN_DATE) and is_valid_id(IN_UNIT_NAME)
    assert is_valid_id(FILE_ID) and not is_valid_id(BAD_CHECKSUM)
    landing = tmp_path_factory.mktemp("landing")
    home = tmp_path_factory.mktemp("home")
    write_xlsx(landing / "120104_2007H1.xlsx", _planted_workbook())
    valid = write_xlsx(tmp_path_factory.mktemp("valid") / "120105_2007H1.xlsx", minimal_sheets("120105"))
    shutil.copyfile(valid, landing / FILE_NAME)
    dbt_log = ROOT / "dbt_project" / "logs" / "dbt.log"
    start = dbt_log.stat().st_size if dbt_log.exists() else 0
    env = cli_env(
        QIANGJI_PSEUDONYM_KEY=KEY,
        QIANGJI_LANDING_QUIET_SECONDS="0",
        QIANGJI_QUARANTINE_SHARE="1",  # the rows with planted IDs are quarantined, the file stored
    )
    done = subprocess.run(
        [QIANGJI, "run", "--home", str(home), "--landing", str(landing)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    appended = b""
    if dbt_log.exists():
        with open(dbt_log, "rb") as f:
            f.seek(start)
            appended = f.read()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return Run(landing, home, output, appended)


@pytest.mark.slow
def test_privacy_ids_in_wrong_columns_and_a_file_name_never_leave_the_archive(run: Run):
    ids, names = identities(run.landing)
    assert FILE_PERSON in names and len(ids) >= 3  # the ID-column IDs and the cover's 填报人
    leaks, scanned = scan_home(run.home, ids, names, PLANTED)
    assert scanned["duckdb"] >= 2 and scanned["parquet"] >= 5 and scanned["other"] >= 10, scanned
    for run_file in (ROOT / "dbt_project" / "target").glob("run_results.json"):
        if tokens := leaks_in_bytes(run_file.read_bytes(), PLANTED):
            leaks.append(f"{run_file} planted {tokens}")
    if tokens := leaks_in_bytes(run.dbt_log, PLANTED):
        leaks.append(f"dbt_project/logs/dbt.log (appended by the run) planted {tokens}")
    if tokens := leaks_in_bytes(run.output.encode(), PLANTED | ids | names):
        leaks.append(f"the command's output {tokens}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.slow
def test_privacy_the_planted_values_were_read(run: Run):
    """The test plants what it means to: the archive keeps both files as received, and the
    planted workbook was stored, its planted rows and the misnamed file reported."""
    import duckdb

    archived = [p.name for p in (run.home / "archive").rglob("*") if p.is_file()]
    assert len(archived) >= 2, archived
    with duckdb.connect(str(run.home / "warehouse.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM raw.submissions GROUP BY 1").fetchall())
        problems = con.execute("SELECT sheet, column_header, rule FROM raw.problems").fetchall()
    assert statuses == {"accepted": 1, "rejected": 1}, statuses
    assert {(sheet, column) for sheet, column, _ in problems} >= {
        ("党员", "所在组织编码"),
        ("党员", "入党日期"),
    }


@pytest.mark.slow
def test_privacy_an_id_typed_in_a_number_column_is_not_stored(run: Run):
    """A number column holds what was typed as a number: masking text never reaches it, so an ID
    typed there must be refused by a rule (the row quarantined, the value masked in its problem)."""
    leaks, _ = scan_home(run.home, set(), set(), {IN_NUMBER, upgrade_15(IN_NUMBER)})
    assert not leaks, "\n".join(leaks)


# --- the GX side alone: a warehouse whose masking failed --------------------------------------------


def _unmasked_warehouse(path: Path) -> Path:
    """The tables two suites and the Data Docs read, holding IDs and a name as they were typed."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.submissions AS SELECT * FROM (VALUES"
            " ('s1', '120104_2007H1.xlsx', TIMESTAMP '2007-07-01'),"
            f" ('s2', '{FILE_NAME}', TIMESTAMP '2007-07-02')) t(submission_id, file_name, received_at)"
        )
        con.execute(
            "CREATE TABLE raw.problems AS SELECT * FROM (VALUES"
            f" ('s1', '120104_2007H1.xlsx', '党员', 2, '所在组织编码', '{IN_ORG_CODE}', 'unknown_org',"
            f"  'error', '所在组织编码 {IN_DATE} 不存在', 'no such organization {FIFTEEN}'),"
            f" ('s2', '{FILE_NAME}', NULL, NULL, NULL, NULL, 'file_name', 'error', '文件名', 'file name'))"
            " t(submission_id, file_name, sheet, excel_row, column_header, value, rule, severity,"
            " message_zh, message_en)"
        )
        con.execute(  # fct_member_snapshot_suite: a duplicate key, a gender and person keys that are IDs
            "CREATE TABLE main.fct_member_snapshot AS SELECT * FROM (VALUES"
            f" ('120104', '2007H1', '{IN_UNIT_NAME}', '{BAD_CHECKSUM}', 's1', 2, DATE '2005-01-01',"
            "  DATE '1980-01-01'),"
            f" ('120104', '2007H1', '{IN_UNIT_NAME}', '男', 's1', 3, DATE '2005-01-01', DATE '1980-01-01'))"
            " t(district_code, period, person_key, gender, submission_id, source_row, join_date, birth_date)"
        )
        con.execute(
            "CREATE TABLE main.dim_period AS SELECT '2007H1' AS period, DATE '2007-01-01' AS start_date,"
            " DATE '2007-06-30' AS end_date"
        )
        con.execute(  # mart_cross_district_duplicates_suite: every row is a failing one
            "CREATE TABLE main.mart_cross_district_duplicates AS SELECT '2007H1' AS period,"
            f" '{FILE_ID}' AS district_code, '乙村{FIFTEEN}' AS other_district_code,"
            f" {IN_DATE[:-1]} AS duplicate_members"
        )
    return path


def test_privacy_gx_results_audit_rows_and_data_docs_mask_what_the_warehouse_holds(tmp_path: Path):
    """Defence in depth: were the warehouse's masking to fail, GX's samples and stored results, the
    audit rows' details and the Data Docs still show no ID (and no name in a file's name)."""
    import duckdb

    from expectations.audit_rows import gx_rows
    from expectations.data_docs import render_data_docs
    from expectations.suites import run_suites
    from warehouse.audit import AUDIT_TABLE, now, write_audit_rows

    warehouse = _unmasked_warehouse(tmp_path / "warehouse.duckdb")
    quality = tmp_path / "quality"
    outcomes = run_suites(
        warehouse, quality / "gx", names=["fct_member_snapshot_suite", "mart_cross_district_duplicates_suite"]
    )
    failed = {o.name: o for s in outcomes for o in s.outcomes if not o.success}
    assert len(failed) >= 3 and not [o.error for o in failed.values() if o.error], failed
    samples = [o.sample for o in failed.values() if o.sample]
    assert samples  # the row queries' failing rows were sampled
    with duckdb.connect(str(warehouse)) as con:
        write_audit_rows(con, gx_rows(outcomes, "run-a", now()))
        details = [
            d
            for (d,) in con.execute(f"SELECT details FROM {AUDIT_TABLE} WHERE details IS NOT NULL").fetchall()
        ]
    assert any("120104" in d for d in details)  # the sample's masked values are kept
    docs = render_data_docs(warehouse, quality / "data_docs", "run-a", outcomes)

    shown = [repr(outcomes), *details]
    leaks = [f"outcomes and audit details {t}" for t in leaks_in_bytes("\n".join(shown).encode(), PLANTED)]
    stored = sorted(p for p in (quality / "gx").rglob("*.json") if "validations" in p.parts)
    assert len(stored) == 2, stored
    for path in [*stored, docs]:
        if tokens := leaks_in_bytes(path.read_bytes(), PLANTED):
            leaks.append(f"{path.relative_to(quality)} {tokens}")
    assert not leaks, "\n".join(leaks)
    page = docs.read_text(encoding="utf-8")
    assert mask_ids_in_text(IN_ORG_CODE) in page  # the problem's value, masked
    assert f"＊＊_{FILE_ID[:6]}********{FILE_ID[-4:]}.xlsx" in page  # the name, masked
