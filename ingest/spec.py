"""The submission contract as data: sheets, columns, header aliases and the file name pattern.

This is the one column map of the format (../shared/spec/submission-format.md). The reader,
the validator, the loader and the demo generator all read it; nothing else spells a header.
Code lists (unit types, education, …) are not here: they are dbt seeds, see `codes.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

DType = Literal["text", "code", "int", "number", "bool", "date", "national_id"]


@dataclass(frozen=True)
class Column:
    header: str  # the Chinese header as the spec writes it (without the trailing *)
    name: str  # the English column name used from the reader on
    dtype: DType
    required: bool = False
    code_list: str | None = None  # name of a code list in the dbt seed code_values.csv
    stored: bool = True  # False: personal or free text that never leaves the reader


@dataclass(frozen=True)
class Sheet:
    name: str  # Chinese sheet name
    alias: str  # English alias (also the CSV file name in zips and folders)
    table: str  # raw table in the warehouse
    kind: Literal["cover", "snapshot", "event"]
    must_have_rows: bool
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


COVER = Sheet(
    "封面",
    "cover",
    "cover",
    "cover",
    True,
    (
        Column("填报单位代码", "district_code", "text", required=True),
        Column("报告期", "period", "text", required=True),
        Column("填报日期", "submitted_date", "date", required=True),
        Column("填报人", "submitted_by", "text", stored=False),
    ),
)

UNITS = Sheet(
    "单位",
    "units",
    "units",
    "snapshot",
    True,
    (
        Column("单位编码", "unit_code", "text", required=True),
        Column("单位名称", "unit_name", "text", required=True),
        Column("单位类型", "unit_type", "code", required=True, code_list="unit_type"),
        Column("所属党组织编码", "covering_org_code", "text"),
        Column("职工人数", "employee_count", "int"),
        Column("党员数", "member_count", "int"),
        Column("高新技术企业", "is_high_tech", "bool"),
        Column("班子评定", "rating", "code", code_list="rating"),
        Column("班子成员数", "board_members", "int"),
        Column("交叉任职人数", "cross_appointed", "int"),
        Column("经营状况", "operating_status", "code", code_list="operating_status"),
        Column("活动场所", "has_venue", "bool"),
        Column("示范点", "is_demo_site", "bool"),
        Column("党建指导员", "has_instructor", "bool"),
        Column("建成日期", "built_date", "date"),
    ),
)

ORGANIZATIONS = Sheet(
    "组织",
    "organizations",
    "organizations",
    "snapshot",
    True,
    (
        Column("组织编码", "org_code", "text", required=True),
        Column("组织名称", "org_name", "text", required=True),
        Column("组织类型", "org_type", "code", required=True, code_list="org_type"),
        Column("上级组织编码", "parent_org_code", "text"),
        Column("建立日期", "established_date", "date", required=True),
        Column("书记姓名", "secretary_name", "text", stored=False),
    ),
)

MEMBERS = Sheet(
    "党员",
    "members",
    "members",
    "snapshot",
    True,
    (
        Column("公民身份号码", "national_id", "national_id", required=True),
        Column("姓名", "name", "text", required=True, stored=False),
        Column("性别", "gender", "code", required=True, code_list="gender"),
        Column("出生日期", "birth_date", "date", required=True),
        Column("学历", "education", "code", required=True, code_list="education"),
        Column("入党日期", "join_date", "date", required=True),
        Column("转正日期", "full_member_date", "date"),
        Column("党员类别", "member_status", "code", required=True, code_list="member_status"),
        Column("所在组织编码", "org_code", "text", required=True),
        Column("流动党员", "is_floating", "bool"),
        Column("流动管理组织", "floating_managed_by", "text"),
        Column("干部类别", "cadre_type", "code", code_list="cadre_type"),
        Column("职业", "occupation", "code", code_list="occupation"),
    ),
)

ADMISSIONS = Sheet(
    "发展党员",
    "admissions",
    "admissions",
    "event",
    False,
    (
        Column("公民身份号码", "national_id", "national_id", required=True),
        Column("发展日期", "admission_date", "date", required=True),
        Column("入党申请日期", "application_date", "date", required=True),
        Column("积极分子日期", "activist_date", "date", required=True),
        Column("推优", "recommended", "bool"),
        Column("预审", "prereviewed", "bool"),
        Column("公示", "publicized", "bool"),
        Column("票决", "ballot", "bool"),
    ),
)

ACTIVITIES = Sheet(
    "活动",
    "activities",
    "activities",
    "event",
    False,
    (
        Column("活动编号", "activity_id", "text", required=True),
        Column("组织编码", "org_code", "text", required=True),
        Column("活动类型", "activity_type", "code", required=True, code_list="activity_type"),
        Column("主题", "topic", "text"),
        Column("主办单位", "organizer", "text"),
        Column("开始日期", "start_date", "date", required=True),
        Column("结束日期", "end_date", "date", required=True),
        Column("参加人数", "participants", "int"),
    ),
)

TRAINING = Sheet(
    "培训",
    "training",
    "training",
    "event",
    False,
    (
        Column("活动编号", "activity_id", "text", required=True),
        Column("公民身份号码", "national_id", "national_id", required=True),
        Column("培训天数", "days", "number", required=True),
    ),
)

SHEETS: tuple[Sheet, ...] = (COVER, UNITS, ORGANIZATIONS, MEMBERS, ADMISSIONS, ACTIVITIES, TRAINING)
DATA_SHEETS: tuple[Sheet, ...] = SHEETS[1:]

# Whole-header aliases (after NFKC, trimming and removing spaces and a trailing *), never substrings.
HEADER_ALIASES: dict[str, str] = {
    "身份证号": "公民身份号码",
    "身份证号码": "公民身份号码",
    "党组织编码": "组织编码",
}

# Exactly the spec's pattern; the extension is matched case-insensitively.
FILE_NAME_PATTERN = re.compile(
    r"^(?P<district>\d{6}|XT\d{2})_(?P<year>\d{4})H(?P<half>[12])(_v(?P<version>\d+))?"
    r"(?P<ext>\.xlsx|\.xls|\.zip)?$",
    re.IGNORECASE | re.ASCII,  # \d: ASCII digits only (full-width ones would pass as a code)
)
