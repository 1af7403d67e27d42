"""`workbooks.template`: the official workbook of a unit and period, opened with openpyxl as Excel
shows it (headers, notes, drop-downs, date formats, the cover), filled as a clerk would with the
generator's data and pre-checked; pre-filled from the warehouse's earlier accepted submission."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ingest.precheck import check_path
from ingest.spec import COVER, SHEETS, UNITS
from tests.support.cli import run_cli
from warehouse.reference import code_values
from workbooks.template import CODES_SHEET, TemplateError, previous_submission, write_template


def _header_text(value: object) -> str:
    return str(value).rstrip("*")


def test_the_template_has_every_sheet_header_note_and_drop_down_of_the_contract(tmp_path: Path):
    template = write_template("120104", "2008H1", tmp_path / "120104_2008H1.xlsx")
    book = openpyxl.load_workbook(template.path)
    assert book.sheetnames == [s.name for s in SHEETS] + [CODES_SHEET]
    assert book[CODES_SHEET].sheet_state == "hidden"
    cover = {row[0].value: row[1].value for row in book[COVER.name].iter_rows(max_col=2) if row[0].value}
    assert cover["填报单位代码*"] == "120104" and cover["报告期*"] == "2008H1"
    assert book[COVER.name]["B3"].number_format == "yyyy-mm-dd"
    for sheet in SHEETS[1:]:
        ws = book[sheet.name]
        headers = [c.value for c in ws[1]]
        assert [_header_text(h) for h in headers] == [c.header for c in sheet.columns]
        assert all(h.endswith("*") == c.required for h, c in zip(headers, sheet.columns, strict=True))
        assert all(c.comment is not None and c.comment.text for c in ws[1])  # a note on every header
        assert ws.freeze_panes == "A2"
        validations = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
        for i, column in enumerate(sheet.columns):
            letter = openpyxl.utils.get_column_letter(i + 1)
            if column.code_list or column.dtype == "bool":
                rule = validations[f"{letter}2"]
                assert rule.type == "list" and rule.formula1.startswith(f"'{CODES_SHEET}'!")
                # the list holds exactly the seed's codes (the source validation reads)
                rng = rule.formula1.split("!")[1].replace("$", "")
                offered = [c.value for row in book[CODES_SHEET][rng] for c in row]
                expected = code_values(column.code_list) if column.code_list else ("是", "否")
                assert tuple(offered) == expected
            if column.dtype == "date":
                # openpyxl groups neighbouring columns of one format under the first one's letter
                [group] = [d for d in ws.column_dimensions.values() if d.min <= i + 1 <= d.max]
                assert group.number_format == "yyyy-mm-dd"
    with pytest.raises(TemplateError, match="reports"):
        write_template("120107", "2010H1", tmp_path / "x.xlsx")  # 塘沽 stopped reporting in 2010
    with pytest.raises(TemplateError, match="not a period"):
        write_template("120104", "2008H3", tmp_path / "x.xlsx")


def _fill(template: Path, source: Path, out: Path) -> Path:
    """Copy every row of a generated workbook into the template, as a clerk would paste values."""
    filled = openpyxl.load_workbook(template)
    data = openpyxl.load_workbook(source)
    for sheet in SHEETS[1:]:
        src, dst = data[sheet.name], filled[sheet.name]
        src_headers = [_header_text(c.value) for c in src[1]]
        positions = {h: i for i, h in enumerate(src_headers)}
        for r, row in enumerate(src.iter_rows(min_row=2, values_only=True), start=2):
            for c, column in enumerate(sheet.columns, start=1):
                if column.header in positions:
                    dst.cell(row=r, column=c, value=row[positions[column.header]])
    cover = filled[COVER.name]
    cover["B3"] = dt.date(2008, 7, 15)
    cover["B4"] = "张三"
    filled.save(out)
    return out


def test_a_template_filled_with_the_generators_data_passes_the_check(generated: Path, tmp_path: Path):
    source = generated / "120104_2008H1.xlsx"
    original = check_path(source)
    assert original.accepted
    template = write_template("120104", "2008H1", tmp_path / "template.xlsx")
    filled = _fill(template.path, source, tmp_path / "120104_2008H1.xlsx")
    report = check_path(filled)
    assert report.accepted, report.structural
    assert report.rows == original.rows
    assert report.quarantined == original.quarantined


def test_the_template_is_prefilled_from_the_earlier_accepted_submission(pipeline_home: Path, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(pipeline_home / "warehouse.duckdb", warehouse)  # a reader never disturbs the home
    prefill = previous_submission(warehouse, "120104", "2011H1")
    assert prefill is not None and prefill.period == "2010H2"
    template = write_template("120104", "2011H1", tmp_path / "t.xlsx", prefill)
    assert template.prefilled_from == "2010H2"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected_units = {
            code
            for (code,) in con.execute(
                "select u.unit_code from raw.units as u join main.int_current_submissions as s"
                " using (submission_id) where s.district_code = '120104' and s.period = '2010H2'"
                " and not u.quarantined"
            ).fetchall()
        }
    book = openpyxl.load_workbook(template.path)
    units = book[UNITS.name]
    got = {row[0] for row in units.iter_rows(min_row=2, values_only=True) if row[0]}
    assert got == expected_units and template.prefilled_rows["单位"] == len(expected_units)
    assert template.prefilled_rows["组织"] > 0
    # never members, admissions, activities or training: names and IDs are not kept
    for name in ("党员", "发展党员", "活动", "培训"):
        assert book[name].max_row == 1
    booleans = [c.value for c in units["L"][1:] if c.value is not None]  # 活动场所
    assert set(booleans) <= {"是", "否"}
    assert previous_submission(warehouse, "120104", "2006H1") is None  # nothing earlier


def test_qiangji_template_writes_the_submission_name_and_never_overwrites(tmp_path: Path):
    home = tmp_path / "home"  # no warehouse yet: nothing to pre-fill
    out = tmp_path / "120104_2008H1.xlsx"
    first = run_cli("template", "120104", "2008H1", "--home", str(home), "--out", str(out))
    assert first.stdout.strip() == str(out) and "nothing pre-filled" in first.stderr
    again = run_cli("template", "120104", "2008H1", "--home", str(home), "--out", str(out), check=False)
    assert again.returncode == 2 and "exists" in again.stderr
    forced = run_cli("template", "120104", "2008H1", "--home", str(home), "--out", str(out), "--force")
    assert forced.returncode == 0
    unknown = run_cli("template", "120107", "2010H1", "--out", str(tmp_path / "x.xlsx"), check=False)
    assert unknown.returncode == 2 and "reports from" in unknown.stderr
