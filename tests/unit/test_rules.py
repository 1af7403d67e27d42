"""Each row rule of the spec: a sample that breaks it is reported at its row and column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
import pytest

from ingest.errors import RULES, StructuralError
from ingest.precheck import check_path
from ingest.read import read_submission
from ingest.settings import IngestSettings
from ingest.validate import validate_submission
from tests.support.builders import make_id, minimal_sheets, write_csv_folder, write_xlsx

Sheets = dict[str, list[dict[str, object]]]
LENIENT = IngestSettings(quarantine_share=1.0)  # one bad row in a tiny sheet must not reject it


def _validate(tmp_path, sheets: Sheets, settings: IngestSettings = LENIENT):
    path = write_xlsx(tmp_path / "120104_2007H1.xlsx", sheets)
    return validate_submission(read_submission(path, settings), settings)


def test_the_valid_sample_has_no_problem(tmp_path):
    validated = _validate(tmp_path, minimal_sheets(), IngestSettings())
    assert validated.problems.height == 0
    assert validated.rejection is None
    assert validated.committee_org == "120104-O1"


def edit(sheet: str, index: int, **changes: object) -> Callable[[Sheets], None]:
    def apply(sheets: Sheets) -> None:
        sheets[sheet][index].update(changes)

    return apply


def append(sheet: str, index: int, **changes: object) -> Callable[[Sheets], None]:
    def apply(sheets: Sheets) -> None:
        sheets[sheet].append({**sheets[sheet][index], **changes})

    return apply


ID_M = minimal_sheets()["党员"][0]["公民身份号码"]
# (edit, sheet, Excel row, column header, rule)
ROW_CASES = [
    (edit("单位", 1, 单位类型="村委会"), "单位", 3, "单位类型", "code_list"),
    (edit("单位", 1, 单位名称=None), "单位", 3, "单位名称", "required"),
    (edit("单位", 3, 职工人数=None), "单位", 5, "职工人数", "required_for_type"),
    (edit("单位", 3, 党员数=None), "单位", 5, "党员数", "required_for_type"),
    (edit("单位", 3, 职工人数=-1), "单位", 5, "职工人数", "non_negative"),
    (edit("单位", 3, 职工人数="many"), "单位", 5, "职工人数", "integer_format"),
    (edit("单位", 1, 班子成员数=3, 交叉任职人数=4), "单位", 3, "交叉任职人数", "cross_appointed_range"),
    (edit("单位", 1, 活动场所="有"), "单位", 3, "活动场所", "boolean_format"),
    (edit("单位", 1, 建成日期="2007-02-30"), "单位", 3, "建成日期", "date_format"),
    (edit("单位", 1, 班子评定="优秀"), "单位", 3, "班子评定", "code_list"),
    (append("单位", 1), "单位", 3, "单位编码", "duplicate_key"),
    (append("单位", 1), "单位", 6, "单位编码", "duplicate_key"),
    (edit("组织", 1, 上级组织编码="NOPE"), "组织", 3, "上级组织编码", "unknown_parent"),
    (edit("组织", 1, 上级组织编码=None), "组织", 3, "上级组织编码", "required"),
    (edit("组织", 1, 建立日期=dt.date(2008, 1, 1)), "组织", 3, "建立日期", "after_period_end"),
    (edit("组织", 1, 组织类型="支部"), "组织", 3, "组织类型", "code_list"),
    (
        edit(
            "党员",
            0,
            公民身份号码=next(ID_M[:-1] + c for c in "123" if int(ID_M[:-1] + c) % 16 and c != ID_M[-1]),
        ),
        "党员",
        2,
        "公民身份号码",
        "id_format",
    ),
    (edit("党员", 0, 公民身份号码=1.20104198005171e17), "党员", 2, "公民身份号码", "id_numeric_cell"),
    (edit("党员", 0, 公民身份号码="1.20104E+17"), "党员", 2, "公民身份号码", "id_numeric_cell"),
    (edit("党员", 0, 姓名=None), "党员", 2, "姓名", "required"),
    (edit("党员", 0, 姓名="  "), "党员", 2, "姓名", "required"),
    (edit("党员", 0, 性别="女"), "党员", 2, "性别", "id_gender"),
    (edit("党员", 0, 出生日期=dt.date(1980, 5, 18)), "党员", 2, "出生日期", "id_birth_date"),
    (edit("党员", 0, 学历="小学"), "党员", 2, "学历", "code_list"),
    (edit("党员", 0, 入党日期=dt.date(1997, 5, 16)), "党员", 2, "入党日期", "join_age"),
    (edit("党员", 0, 入党日期=dt.date(2007, 7, 1), 转正日期=None), "党员", 2, "入党日期", "after_period_end"),
    (edit("党员", 0, 转正日期=dt.date(2001, 1, 1)), "党员", 2, "转正日期", "full_before_join"),
    (edit("党员", 0, 党员类别="党员"), "党员", 2, "党员类别", "code_list"),
    (edit("党员", 0, 所在组织编码="NOPE"), "党员", 2, "所在组织编码", "unknown_org"),
    (edit("党员", 0, 干部类别="干部"), "党员", 2, "干部类别", "code_list"),
    (edit("党员", 0, 职业="程序员"), "党员", 2, "职业", "code_list"),
    (append("党员", 0), "党员", 2, "公民身份号码", "duplicate_key"),
    (
        edit("发展党员", 0, 公民身份号码=make_id("120104", dt.date(1980, 1, 1), 9, True)),
        "发展党员",
        2,
        "公民身份号码",
        "unknown_member",
    ),
    (edit("发展党员", 0, 发展日期=dt.date(2006, 12, 31)), "发展党员", 2, "发展日期", "outside_period"),
    (
        edit("发展党员", 0, 入党申请日期=dt.date(2005, 6, 1)),
        "发展党员",
        2,
        "入党申请日期",
        "application_after_activist",
    ),
    (
        edit("发展党员", 0, 积极分子日期=dt.date(2007, 6, 1)),
        "发展党员",
        2,
        "积极分子日期",
        "activist_after_admission",
    ),
    (edit("活动", 0, 组织编码="NOPE"), "活动", 2, "组织编码", "unknown_org"),
    (edit("活动", 0, 活动类型="会议"), "活动", 2, "活动类型", "code_list"),
    (
        edit("活动", 0, 开始日期=dt.date(2007, 7, 1), 结束日期=dt.date(2007, 7, 1)),
        "活动",
        2,
        "开始日期",
        "outside_period",
    ),
    (edit("活动", 0, 结束日期=dt.date(2007, 1, 1)), "活动", 2, "结束日期", "end_before_start"),
    (append("活动", 0), "活动", 2, "活动编号", "duplicate_key"),
    (edit("培训", 0, 活动编号="A1"), "培训", 2, "活动编号", "not_training_activity"),
    (edit("培训", 0, 培训天数=11), "培训", 2, "培训天数", "days_over_length"),
    (edit("培训", 0, 培训天数=0), "培训", 2, "培训天数", "positive"),
    (append("培训", 0), "培训", 2, "公民身份号码", "duplicate_key"),
]


@pytest.mark.parametrize(("change", "sheet", "row", "column", "rule"), ROW_CASES)
def test_row_rule_is_reported_where_it_broke(tmp_path, change, sheet, row, column, rule):
    sheets = minimal_sheets()
    change(sheets)
    problems = _validate(tmp_path, sheets).problems
    hit = problems.filter(
        (pl.col("sheet") == sheet)
        & (pl.col("row") == row)
        & (pl.col("column") == column)
        & (pl.col("rule") == rule)
    )
    assert hit.height == 1, problems
    assert rule in RULES


def test_ids_are_masked_in_problems(tmp_path):
    sheets = minimal_sheets()
    sheets["党员"][0]["性别"] = "女"
    sheets["党员"].append(dict(sheets["党员"][0]))
    problems = _validate(tmp_path, sheets).problems
    values = " ".join(v for v in problems["value"].to_list() if v)
    assert ID_M not in values
    assert f"{ID_M[:6]}********{ID_M[-4:]}" in values


def test_too_many_bad_rows_reject_the_submission(tmp_path):
    sheets = minimal_sheets()
    sheets["党员"][0]["学历"] = "小学"  # 1 of 3 rows: above 5%
    validated = _validate(tmp_path, sheets, IngestSettings())
    assert validated.rejection is not None and validated.rejection.rule == "too_many_row_errors"


def test_a_dangling_covering_org_is_only_a_warning(tmp_path):
    sheets = minimal_sheets()
    sheets["单位"][1]["所属党组织编码"] = "NOPE"
    problems = _validate(tmp_path, sheets, IngestSettings()).problems
    assert problems.select("rule", "severity").rows() == [("dangling_covering_org", "warning")]


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda s: s["封面"].__setitem__(0, {"key": "填报单位代码", "value": "120105"}), "cover_mismatch"),
        (lambda s: s["单位"].__setitem__(0, {**s["单位"][0], "单位类型": "系统党委"}), "committee_count"),
        (lambda s: s["单位"].append({**s["单位"][0], "单位编码": "X"}), "committee_count"),
        (lambda s: s.pop("组织"), "missing_sheet"),
        (lambda s: s.__setitem__("党员", []), "empty_sheet"),
    ],
)
def test_structural_errors_reject(tmp_path, change, rule):
    sheets = minimal_sheets()
    change(sheets)
    with pytest.raises(StructuralError) as exc:
        _validate(tmp_path, sheets)
    assert exc.value.problem.rule == rule


def test_missing_required_column_is_structural(tmp_path):
    sheets = minimal_sheets()
    for row in sheets["党员"]:
        row.pop("学历")
    path = write_csv_folder(tmp_path / "120104_2007H1", sheets)
    (path / "members.csv").write_text(
        (path / "members.csv").read_text(encoding="utf-8").replace("学历", "文化程度"), encoding="utf-8"
    )
    report = check_path(path)
    assert report.structural is not None
    assert (report.structural.rule, report.structural.column) == ("missing_column", "学历")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_folders_in_every_encoding(tmp_path, encoding):
    path = write_csv_folder(tmp_path / "120104_2007H1", minimal_sheets(), encoding=encoding)
    report = check_path(path)
    assert report.accepted and report.problems.height == 0
    assert report.rows["members"] == 3
