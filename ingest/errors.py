"""Problems found in a submission: one catalog of rules with a message in Chinese and English.

Row problems travel as a polars frame (one row per problem) so that a million-row sheet with
many errors never becomes a million Python objects; `Problem` is the per-item view used for
structural errors and for printing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import polars as pl

Severity = Literal["structural", "row", "warning"]

# rule -> (message in Chinese, message in English). `{value}` is filled in where it helps.
RULES: dict[str, tuple[str, str]] = {
    # structural: the whole submission is rejected
    "file_name": (
        "文件名不符合规范 <代码>_<报告期>[_v<版本>].<扩展名>",
        "file name does not match <code>_<period>[_v<N>].<ext>",
    ),
    "unknown_district": (
        "填报单位代码不在报告单位名单中或该期不报告",
        "reporting unit unknown or not reporting in that period",
    ),
    "unreadable_file": (
        "文件无法读取（损坏、加密或格式不符）",
        "the file cannot be read (corrupt, encrypted or not that format)",
    ),
    "file_too_large": ("文件超过大小上限", "the file is over the size limit"),
    "zip_limits": ("压缩包超过条目数或解压大小上限", "the zip is over its entry or expanded-size limit"),
    "unsafe_entry": ("压缩包内路径不安全", "unsafe path inside the zip"),
    "unpacked_limits": (
        "文件解压后超过上限（总大小、部件数或压缩比），疑似压缩炸弹",
        "the file unpacks to more than allowed (total size, number of parts or compression ratio):"
        " a zip bomb?",
    ),
    "sheet_too_large": (
        "工作表的数据范围过大（超出 Excel 的行列上限，或远处有多余的单元格）：请删除多余的行和列后重新报送",
        "the sheet's range is too large (beyond Excel's grid, or a stray cell far away):"
        " delete the extra rows and columns and send it again",
    ),
    "too_many_rows": (
        "CSV 超过 Excel 的行数上限（1048576 行，含表头）",
        "the CSV has more rows than Excel's 1,048,576 (header included)",
    ),
    "missing_sheet": ("缺少必需的工作表", "a required sheet is missing"),
    "duplicate_sheet": ("同一工作表出现多次", "the same sheet appears more than once"),
    "duplicate_column": ("同一列出现多次", "the same column appears more than once"),
    "missing_column": ("缺少必需的列", "a required column is missing"),
    "empty_sheet": ("必需的工作表没有数据行", "a required sheet has no rows"),
    "cover_mismatch": ("封面与文件名不一致", "the cover does not match the file name"),
    "committee_count": (
        "单位表中本级党委（区县党委/系统党委）必须恰好一行",
        "the 单位 sheet must have exactly one reporting-unit committee row",
    ),
    "too_many_row_errors": (
        "出错行比例超过上限，整份报送被拒收",
        "too large a share of rows failed; the submission is rejected",
    ),
    "not_a_regular_file": (
        "接收目录中的条目不是普通文件或文件夹（链接、管道或设备），未读取",
        "the landing entry is not a regular file or folder (a link, a pipe or a device); not read",
    ),
    "reader_memory": (
        "读取该文件所需内存超过上限（文件可能含有超大范围或被恶意构造），请检查后重新报送",
        "reading the file needed more memory than allowed (a huge range or a crafted file);"
        " check it and send it again",
    ),
    "reader_timeout": (
        "读取该文件超过时间上限，请检查后重新报送",
        "reading the file took longer than allowed; check it and send it again",
    ),
    "reader_crashed": (
        "读取该文件时读取程序异常退出，请检查文件后重新报送",
        "the reader stopped abnormally on this file; check the file and send it again",
    ),
    "version_conflict": (
        "同一版本号已收到内容不同的文件，请以 _v{value} 重新报送",
        "this version was already received with other content; send it as _v{value}",
    ),
    # row rules: the row is quarantined
    "required": ("必填项为空", "a required value is missing"),
    "text_too_long": ("单元格超过 32767 个字符", "the cell is over 32,767 characters"),
    "line_break_in_cell": (
        "单元格内有换行：可能是多余的引号，其后的若干行可能已被并入此单元格",
        "a line break inside the cell: a stray quote? the following rows may have been swallowed into it",
    ),
    "excel_error": (
        "单元格为 Excel 错误值（如 #N/A、#DIV/0!）：请修正公式或直接填写数值",
        "the cell holds an Excel error value (#N/A, #DIV/0!, …): fix the formula or enter the value",
    ),
    "date_format": ("日期无法识别", "not a recognizable date"),
    "integer_format": ("不是整数", "not a whole number"),
    "number_format": ("不是数字", "not a number"),
    "boolean_format": ("应填 是/否", "expected 是/否 (yes/no)"),
    "code_list": ("不是允许的代码值", "not one of the accepted codes"),
    "id_format": ("公民身份号码格式或校验位错误", "national ID malformed or its check digit is wrong"),
    "id_numeric_cell": (
        "公民身份号码被存为数字，末尾几位已丢失：请将该列设为文本格式后重填",
        "national ID stored as a number, which lost its last digits:"
        " format the column as text and re-enter it",
    ),
    "id_gender": ("性别与公民身份号码不符", "gender does not agree with the national ID"),
    "id_birth_date": ("出生日期与公民身份号码不符", "birth date does not agree with the national ID"),
    "duplicate_key": ("编码或号码在表内重复", "the key is duplicated in the sheet"),
    "non_negative": ("不能为负数", "must not be negative"),
    "positive": ("必须大于 0", "must be greater than 0"),
    "required_for_type": ("该单位类型必须填写此项", "required for this unit type"),
    "cross_appointed_range": (
        "交叉任职人数应在 0 到班子成员数之间",
        "cross_appointed must be between 0 and board_members",
    ),
    "after_period_end": ("日期晚于报告期末", "the date is after the end of the period"),
    "outside_period": ("日期不在报告期内", "the date is outside the period"),
    "join_age": ("入党时未满 18 岁", "under 18 on the joining date"),
    "full_before_join": ("转正日期早于入党日期", "full-member date before the joining date"),
    "application_after_activist": (
        "入党申请日期晚于积极分子日期",
        "application date after the activist date",
    ),
    "activist_after_admission": ("积极分子日期晚于发展日期", "activist date after the admission date"),
    "end_before_start": ("结束日期早于开始日期", "end date before start date"),
    "unknown_org": ("组织编码不在组织表中", "organization code not in the 组织 sheet"),
    "unknown_parent": ("上级组织编码不在组织表中", "parent organization not in the 组织 sheet"),
    "unknown_member": ("公民身份号码不在党员表中", "national ID not in the 党员 sheet"),
    "not_training_activity": (
        "活动编号不是活动表中的集中培训",
        "activity_id is not a 集中培训 activity of the 活动 sheet",
    ),
    "days_over_length": ("培训天数超过活动天数", "training days exceed the activity's length"),
    # warnings: reported, nothing quarantined
    "extra_column": ("多余的列，已忽略", "extra column ignored"),
    "dangling_covering_org": (
        "所属党组织编码不在组织表中，按未覆盖计",
        "covering organization not in 组织: counted as not covered",
    ),
    "cross_district_duplicate": (
        "同一公民身份号码在其他报送单位同期出现",
        "the same national ID appears in another reporting unit's submission for the period",
    ),
}

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "sheet": pl.String(),
    "row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
}


@dataclass(frozen=True)
class Problem:
    file: str
    rule: str
    severity: Severity
    sheet: str | None = None
    row: int | None = None  # as Excel shows it: the header is row 1
    column: str | None = None
    value: str | None = None  # national IDs masked

    @property
    def message_zh(self) -> str:
        return RULES[self.rule][0].format(value=self.value)

    @property
    def message_en(self) -> str:
        return RULES[self.rule][1].format(value=self.value)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "message_zh": self.message_zh, "message_en": self.message_en}

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                self.sheet and f"sheet {self.sheet}",
                (self.row is not None and f"row {self.row}") or None,
                self.column and f"column {self.column}",
            )
            if part
        )
        value = f" value {self.value!r}" if self.value is not None else ""
        return f"{where}: [{self.rule}]{value} {self.message_zh} / {self.message_en}"


class StructuralError(Exception):
    """The submission cannot be accepted at all."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=PROBLEM_SCHEMA)


def problem_frame(problems: list[Problem]) -> pl.DataFrame:
    """Problems (structural errors, reader warnings) as rows of a problem frame."""
    return pl.DataFrame([{k: getattr(p, k) for k in PROBLEM_SCHEMA} for p in problems], schema=PROBLEM_SCHEMA)


def problems_from_frame(file: str, frame: pl.DataFrame) -> list[Problem]:
    """Per-item view of a problem frame (for printing; fine for the few shown to a person)."""
    return [Problem(file=file, **row) for row in frame.iter_rows(named=True)]


def message_columns() -> list[pl.Expr]:
    """Chinese and English messages for a problem frame, as polars expressions."""
    zh = {rule: texts[0] for rule, texts in RULES.items()}
    en = {rule: texts[1] for rule, texts in RULES.items()}
    return [
        pl.col("rule").replace_strict(zh, default=None).alias("message_zh"),
        pl.col("rule").replace_strict(en, default=None).alias("message_en"),
    ]
