"""Small, hand-made submissions for rule tests: valid by default, edited per test."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from ingest.identity import check_char
from ingest.spec import COVER, DATA_SHEETS


def make_id(area: str, birth: dt.date, seq: int, male: bool) -> str:
    """A valid GB 11643 ID; the 17th digit is odd for men."""
    order = f"{seq % 50:02d}{(seq % 5) * 2 + (1 if male else 0)}"
    first17 = f"{area}{birth:%Y%m%d}{order}"
    return first17 + check_char(first17)


def minimal_sheets(district: str = "120104", period: str = "2007H1") -> dict[str, list[dict[str, object]]]:
    """Rows of a small valid submission, keyed by Chinese sheet name, headers as in the spec."""
    year, half = int(period[:4]), int(period[-1])
    start = dt.date(year, 1 if half == 1 else 7, 1)
    committee = f"{district}-O1"
    id_m = make_id("120104", dt.date(1980, 5, 17), 1, True)
    id_f = make_id("120104", dt.date(1986, 2, 3), 2, False)
    id_n = make_id("120104", dt.date(1985, 8, 9), 3, False)
    return {
        "封面": [
            {"key": "填报单位代码", "value": district},
            {"key": "报告期", "value": period},
            {"key": "填报日期", "value": start + dt.timedelta(days=170)},
            {"key": "填报人", "value": "张三"},
        ],
        "单位": [
            {
                "单位编码": f"{district}-U1",
                "单位名称": "区委",
                "单位类型": "区县党委",
                "所属党组织编码": committee,
            },
            {
                "单位编码": f"{district}-U2",
                "单位名称": "甲村",
                "单位类型": "行政村",
                "所属党组织编码": f"{district}-O2",
                "活动场所": "是",
                "班子评定": "五个好",
            },
            {"单位编码": f"{district}-U3", "单位名称": "乙村", "单位类型": "行政村", "活动场所": "否"},
            {
                "单位编码": f"{district}-U4",
                "单位名称": "某公司",
                "单位类型": "非公有制企业",
                "职工人数": 60,
                "党员数": 3,
                "所属党组织编码": f"{district}-O2",
            },
        ],
        "组织": [
            {
                "组织编码": committee,
                "组织名称": "区委",
                "组织类型": "党委",
                "建立日期": dt.date(1950, 1, 1),
                "书记姓名": "李四",
            },
            {
                "组织编码": f"{district}-O2",
                "组织名称": "甲村党支部",
                "组织类型": "党支部",
                "上级组织编码": committee,
                "建立日期": dt.date(1960, 1, 1),
            },
        ],
        "党员": [
            {
                "公民身份号码": id_m,
                "姓名": "王五",
                "性别": "男",
                "出生日期": dt.date(1980, 5, 17),
                "学历": "本科",
                "入党日期": dt.date(2002, 7, 1),
                "转正日期": dt.date(2003, 7, 1),
                "党员类别": "正式党员",
                "所在组织编码": f"{district}-O2",
                "职业": "工人",
            },
            {
                "公民身份号码": id_f,
                "姓名": "赵六",
                "性别": "女",
                "出生日期": dt.date(1986, 2, 3),
                "学历": "大学专科",
                "入党日期": start + dt.timedelta(days=10),
                "党员类别": "预备党员",
                "所在组织编码": committee,
            },
            {
                "公民身份号码": id_n,
                "姓名": "孙七",
                "性别": "女",
                "出生日期": dt.date(1985, 8, 9),
                "学历": "高中",
                "入党日期": dt.date(2005, 1, 1),
                "转正日期": dt.date(2006, 1, 1),
                "党员类别": "正式党员",
                "所在组织编码": committee,
                "流动党员": "是",
                "流动管理组织": "某街道党工委",
            },
        ],
        "发展党员": [
            {
                "公民身份号码": id_f,
                "发展日期": start + dt.timedelta(days=10),
                "入党申请日期": dt.date(2004, 3, 1),
                "积极分子日期": dt.date(2005, 3, 1),
                "推优": "是",
                "预审": "是",
                "公示": "是",
                "票决": "否",
            },
        ],
        "活动": [
            {
                "活动编号": "A1",
                "组织编码": committee,
                "活动类型": "党委会",
                "主题": "研究强基创先工程",
                "开始日期": start + dt.timedelta(days=20),
                "结束日期": start + dt.timedelta(days=20),
                "参加人数": 9,
            },
            {
                "活动编号": "A2",
                "组织编码": committee,
                "活动类型": "集中培训",
                "主题": "村干部培训",
                "开始日期": start + dt.timedelta(days=30),
                "结束日期": start + dt.timedelta(days=39),
                "参加人数": 2,
            },
        ],
        "培训": [
            {"活动编号": "A2", "公民身份号码": id_m, "培训天数": 10},
        ],
    }


def _headers(sheet_name: str) -> list[str]:
    sheet = next(s for s in DATA_SHEETS if s.name == sheet_name)
    return [c.header for c in sheet.columns]


def write_xlsx(path: Path, sheets: dict[str, list[dict[str, object]]]) -> Path:
    """A workbook as Excel writes it: shared strings, real date cells."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = workbook.add_worksheet(name)
        if name == COVER.name:
            for r, row in enumerate(rows):
                ws.write(r, 0, row["key"])
                _write(ws, r, 1, row["value"], date_format)
            continue
        headers = _headers(name) if name in {s.name for s in DATA_SHEETS} else list(rows[0])
        extra = [h for row in rows for h in row if h not in headers]
        headers += list(dict.fromkeys(extra))
        ws.write_row(0, 0, headers)
        for r, row in enumerate(rows, start=1):
            for c, header in enumerate(headers):
                if header in row and row[header] is not None:
                    _write(ws, r, c, row[header], date_format)
    workbook.close()
    return path


def _write(ws, r: int, c: int, value: object, date_format) -> None:
    if isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_format)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, str(value))


def write_csv_folder(
    folder: Path, sheets: dict[str, list[dict[str, object]]], encoding: str = "utf-8"
) -> Path:
    """A folder of CSVs named by the English alias, as the zip/folder container holds them."""
    folder.mkdir(parents=True, exist_ok=True)
    aliases = {s.name: s.alias for s in (COVER, *DATA_SHEETS)}
    for name, rows in sheets.items():
        with open(folder / f"{aliases.get(name, name)}.csv", "w", encoding=encoding, newline="") as f:
            w = csv.writer(f)
            if name == COVER.name:
                for row in rows:
                    w.writerow([row["key"], cell_text(row["value"])])
                continue
            headers = _headers(name)
            w.writerow(headers)
            for row in rows:
                w.writerow([cell_text(row.get(h)) for h in headers])
    return folder


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
