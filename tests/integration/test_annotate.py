"""`workbooks.annotate`: the clerk's own workbook back with every problem marked, opened with
openpyxl as Excel would show it: fills, comments, the 问题清单 sheet and its links."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ingest.precheck import check_path
from tests.support.badfiles import (
    DISTRICT,
    PERIOD,
    _column,
    _utf8,
    csv_entries,
    padded_sheets,
    write_book,
    write_zip,
)
from tests.support.builders import make_id
from tests.support.cli import run_cli
from workbooks.annotate import LIST_SHEET, PROBLEM_FILL, AnnotateError, annotate_submission

STEM = f"{DISTRICT}_{PERIOD}"


def _bad_sheets():
    """Two row errors in 党员 (a bad gender code, a birth date that disagrees with the ID) and one
    in 单位 (a negative employee count)."""
    sheets = padded_sheets()
    sheets["党员"][3]["性别"] = "X"  # Excel row 5
    sheets["党员"][5]["出生日期"] = dt.date(1901, 1, 1)  # Excel row 7
    sheets["单位"][4]["职工人数"] = -3  # Excel row 6
    return sheets


def _cells(book, problems_sheet: str = LIST_SHEET) -> list[tuple]:
    return [tuple(c.value for c in row) for row in book[problems_sheet].iter_rows(min_row=2)]


def test_an_xlsx_comes_back_with_its_problem_cells_red_commented_and_listed(tmp_path: Path):
    source = write_book(tmp_path / f"{STEM}.xlsx", _bad_sheets())
    report = check_path(source)
    problems = report.all_problems()
    assert report.accepted and problems  # row errors quarantine rows, the file is accepted
    out = annotate_submission(source, problems, tmp_path / "out" / "annotated.xlsx")
    assert out.problems == len(problems) and out.marked_cells >= 3

    book = openpyxl.load_workbook(out.path)
    original = openpyxl.load_workbook(source)
    assert book.sheetnames[0] == LIST_SHEET and book.sheetnames[1:] == original.sheetnames
    gender = book["党员"].cell(row=5, column=_column("党员", "性别") + 1)
    assert gender.fill.fgColor.rgb.endswith(PROBLEM_FILL)
    assert gender.comment is not None and "性别" in gender.comment.text and "gender" in gender.comment.text
    employees = book["单位"].cell(row=6, column=_column("单位", "职工人数") + 1)
    assert employees.fill.fgColor.rgb.endswith(PROBLEM_FILL) and employees.comment is not None
    # the clerk's own cells are unchanged, values and all
    for name in original.sheetnames:
        for before, after in zip(original[name].iter_rows(), book[name].iter_rows(), strict=True):
            assert [c.value for c in before] == [c.value for c in after]
    # the list: one row per problem, each linking to its cell
    listed = book[LIST_SHEET]
    assert listed.freeze_panes == "A2" and listed.auto_filter.ref
    rows = list(listed.iter_rows(min_row=2))
    assert len(rows) == len(problems)
    links = [row[-1].hyperlink for row in rows]
    assert all(link is not None and link.location for link in links)
    assert any(link.location.replace("'", "") == f"党员!{gender.coordinate}" for link in links)
    unmarked = [c for c in book["党员"]["A"] if c.comment is not None and c.row == 1]
    assert not unmarked  # no problem here lands on a header


def test_a_national_id_in_a_problem_stays_masked_in_the_list(tmp_path: Path):
    sheets = padded_sheets()
    national_id = make_id("120104", dt.date(1990, 1, 1), 7, True)
    typed = national_id[:-1] + ("0" if national_id[-1] != "0" else "1")  # a wrong check character
    sheets["党员"][2]["公民身份号码"] = typed  # Excel row 4
    source = write_book(tmp_path / f"{STEM}.xlsx", sheets)
    out = annotate_submission(source, check_path(source).all_problems(), tmp_path / "a.xlsx")
    book = openpyxl.load_workbook(out.path)
    listed = " ".join(str(v) for row in _cells(book) for v in row if v is not None)
    comments = " ".join(c.comment.text for row in book["党员"].iter_rows() for c in row if c.comment)
    assert national_id[:-1] not in listed and national_id[:-1] not in comments
    assert "********" in listed
    # the clerk's own cell still holds what they typed (it is their file)
    cell = book["党员"].cell(row=4, column=_column("党员", "公民身份号码") + 1)
    assert cell.value == typed and cell.comment is not None


def test_a_rejected_workbook_carries_its_structural_problem_on_the_cover(tmp_path: Path):
    sheets = padded_sheets()
    sheets["封面"][0]["value"] = "120105"  # the cover names another district
    source = write_book(tmp_path / f"{STEM}.xlsx", sheets)
    report = check_path(source)
    assert not report.accepted
    annotated = annotate_submission(source, report.all_problems(), tmp_path / "a.xlsx")
    book = openpyxl.load_workbook(annotated.path)
    cover = book["封面"]["A1"]
    assert cover.comment is not None and report.structural.rule in cover.comment.text
    assert _cells(book)[0][0] == "整份退回"


def test_a_zip_of_csvs_becomes_a_workbook_with_a_sheet_per_csv(tmp_path: Path):
    entries = csv_entries(_bad_sheets())
    source = write_zip(tmp_path / f"{STEM}.zip", _utf8(entries))
    report = check_path(source)
    out = annotate_submission(source, report.all_problems(), tmp_path / "a.xlsx")
    book = openpyxl.load_workbook(out.path)
    assert book.sheetnames == [LIST_SHEET, *sorted(Path(n).stem for n in entries)]
    members = book["members"]
    gender = members.cell(row=5, column=_column("党员", "性别") + 1)
    assert gender.fill.fgColor.rgb.endswith(PROBLEM_FILL) and gender.comment is not None
    assert [c.value for c in members[1]][:2] == ["公民身份号码", "姓名"]  # text, as the CSV had it
    with zipfile.ZipFile(source) as z:
        assert len([n for n in z.namelist() if n.endswith(".csv")]) == len(book.sheetnames) - 1


def test_a_clean_file_gets_a_list_saying_so_and_a_legacy_xls_is_refused(tmp_path: Path):
    source = write_book(tmp_path / f"{STEM}.xlsx")
    out = annotate_submission(source, check_path(source).all_problems(), tmp_path / "a.xlsx")
    book = openpyxl.load_workbook(out.path)
    assert "没有发现问题" in [v for row in _cells(book) for v in row]
    legacy = tmp_path / f"{STEM}.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(AnnotateError, match="xlsx"):
        annotate_submission(legacy, [], tmp_path / "b.xlsx")


def test_qiangji_check_annotate_writes_the_copy_and_keeps_its_exit_code(tmp_path: Path):
    source = write_book(tmp_path / f"{STEM}.xlsx", _bad_sheets())
    out = tmp_path / "annotated.xlsx"
    result = run_cli("check", str(source), "--annotate", str(out))
    assert result.returncode == 0 and "annotated copy" in result.stderr  # rows quarantined, file accepted
    assert openpyxl.load_workbook(out).sheetnames[0] == LIST_SHEET
    both = run_cli("check", str(source), str(source), "--annotate", str(out), check=False)
    assert both.returncode == 2 and "one submission" in both.stderr
    not_xlsx = run_cli("check", str(source), "--annotate", str(tmp_path / "a.csv"), check=False)
    assert not_xlsx.returncode == 2 and "xlsx" in not_xlsx.stderr


def test_a_zip_over_its_limits_is_never_opened_again_only_listed(tmp_path: Path):
    """A zip bomb the guarded reader refused: the copy holds the list and a cover saying why, and the
    annotating process (which has no reader's memory limit) never inflates it."""
    bomb = tmp_path / f"{STEM}.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("members.csv", b"0" * (300 << 20))  # 300 MiB of zeros, < 1 MiB packed
    assert bomb.stat().st_size < 2 << 20
    report = check_path(bomb)
    assert not report.accepted and report.structural.rule in ("unpacked_limits", "zip_limits")
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = annotate_submission(bomb, report.all_problems(), tmp_path / "a.xlsx")
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    book = openpyxl.load_workbook(out.path)
    assert book.sheetnames == [LIST_SHEET, "封面"]
    assert report.structural.rule in book["封面"]["A1"].comment.text
    assert grown_mib < 100  # the 300 MiB entry was never read
