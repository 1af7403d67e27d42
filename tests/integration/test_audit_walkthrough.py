"""The auditor's walk-through of docs/auditing.md, done by a test: from the published file and the
archive alone, trace a quarantined row and a failed expectation back to the workbook and its row."""

import csv
import json
import shutil
from pathlib import Path

import duckdb
import fastexcel
import pytest

from tests.support.cli import run_cli

pytestmark = pytest.mark.slow  # a generation and a whole run of its own

FAULTY = "120101_2010H2_v3.xlsx"  # 党员 row faults: quarantined rows, the file accepted


def archived(home: Path, submission_id: str) -> Path:
    """The file as received: the archive keeps it under archive/<sha256[:2]>/<sha256> (beside its
    receipts, `<sha256>.receipts.jsonl`), and a submission id holds the first 8 characters of that
    hash after the version."""
    sha8 = submission_id.split("-")[1][:8]
    [path] = (p for p in (home / "archive" / sha8[:2]).glob(f"{sha8}*") if not p.name.endswith(".jsonl"))
    return path


def excel_row(workbook: Path, sheet: str, row: int) -> dict[str, str]:
    """One row of a sheet by header, as text (Excel numbering; the header is row 1)."""
    frame = (
        fastexcel.read_excel(workbook.read_bytes())
        .load_sheet_by_name(sheet, header_row=None, dtypes="string")
        .to_polars()
    )
    header, values = frame.row(0), frame.row(row - 1)
    return {h: v for h, v in zip(header, values, strict=True) if h}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """Five districts' 2010H2 workbooks, then district 120101's corrected version with row faults."""
    out = tmp_path_factory.mktemp("audit_generated")
    run_cli(
        "generate", "--out", str(out), "--periods", "2010H2", "--scale", "0.002", "--seed", "7", "--faults"
    )
    landing = tmp_path_factory.mktemp("audit_landing")
    for path in sorted(out.glob("*_2010H2.xlsx"))[:5]:
        shutil.copyfile(path, landing / path.name)
    shutil.copyfile(out / "faults" / FAULTY, landing / FAULTY)
    with open(out / "faults" / "faults.csv", encoding="utf-8") as f:
        expected = [r for r in csv.DictReader(f) if r["file"] == FAULTY and r["severity"] == "row"]
    home = tmp_path_factory.mktemp("audit_home")
    run_cli("run", "--home", str(home), "--landing", str(landing))
    return home, expected


def test_an_auditor_traces_a_quarantined_row_to_its_file_and_row(audited):
    home, expected = audited
    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as con:
        problems = con.execute(
            "SELECT submission_id, sheet_name, excel_row, column_header, masked_value, rule_id"
            " FROM audit_submission_problems WHERE file_name = ? AND severity = 'row'"
            " ORDER BY sheet_name, excel_row, column_header",
            [FAULTY],
        ).fetchall()
        audited_rules = dict(
            con.execute(
                "SELECT check_name, failing_count FROM audit_check_results"
                " WHERE layer = 'pandera' AND district_code = '120101' AND period = '2010H2'"
                " AND NOT passed AND severity = 'blocking'"
            ).fetchall()
        )
    assert expected, "the faults manifest lists this file's row faults"
    found = {(sheet, row, column, rule) for _, sheet, row, column, _, rule in problems}
    for e in expected:  # every planted fault is reported where it was planted
        assert any(
            (s, r, c) == (e["sheet"], int(e["row"]), e["column"]) and rule.startswith(e["rule"])
            for s, r, c, rule in found
        ), e
    for rule in {p[5] for p in problems}:  # and counted in the audit trail for the district and period
        assert audited_rules.get(rule, 0) >= 1, rule
    # the first problem, in the workbook as the district sent it
    submission_id, sheet, row, column, masked, _ = problems[0]
    cells = excel_row(archived(home, submission_id), sheet, row)
    value = cells[column]
    assert masked is not None and value is not None
    assert masked[:6] == value[:6] and masked[-4:] == value[-4:]  # the value, masked as auditors see it


def test_an_auditor_traces_a_failed_expectation_to_its_file_and_row(audited):
    home, _ = audited
    data_docs = (home / "quality" / "data_docs" / "index.html").read_text()
    with duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True) as con:
        failed = con.execute(
            "SELECT a.check_name, a.district_code, a.period, a.failing_count, a.details, a.submission_id,"
            " s.current_file_name"
            " FROM audit_check_results AS a"
            " JOIN mart_submission_status AS s ON s.current_submission_id = a.submission_id"
            " WHERE a.layer = 'gx' AND NOT a.passed AND a.details LIKE '%source_sheet%'"
            " ORDER BY a.check_name, a.district_code"
        ).fetchall()
        whole = dict(
            con.execute(
                "SELECT check_name, failing_count FROM audit_check_results"
                " WHERE layer = 'gx' AND NOT passed AND submission_id IS NULL"
            ).fetchall()
        )
    assert failed, "the generated workbooks break at least one reconciliation"
    for check_name in {f[0] for f in failed}:  # the per-submission counts add up to the whole
        assert sum(f[3] for f in failed if f[0] == check_name) == whole[check_name]
    check_name, district, period, _, details, submission_id, file_name = failed[0]
    assert check_name.split(": ", 1)[1] in data_docs
    assert file_name.startswith(f"{district}_{period}")
    [first, *_] = json.loads(details)["sample"]
    cells = excel_row(archived(home, submission_id), first["source_sheet"], first["source_row"])
    code = first.get("org_code") or first.get("covering_org_code")
    assert code in (cells.get("组织编码"), cells.get("所属党组织编码"))
