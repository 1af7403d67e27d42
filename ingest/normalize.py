"""Turn a sheet of text cells into typed columns, recording every cell that cannot be read.

Everything is a polars expression over whole columns: no per-row Python. A cell that has a value
but cannot be typed becomes null in the typed frame and a problem row (sheet, row, column, value,
rule) in the problem frame; the validator then skips required-checks on those cells, so one bad
cell gives one message.
"""

from __future__ import annotations

import polars as pl

from ingest.errors import PROBLEM_SCHEMA, empty_problems
from ingest.identity import mask_id_expr, upgrade_15_expr
from ingest.read import LINE_BREAK, PRESENT, ROW, RawSheet
from ingest.settings import IngestSettings
from ingest.spec import Column, Sheet
from warehouse.reference import code_synonyms

_TRUE = ["是", "Y", "YES", "1", "TRUE", "T"]
_FALSE = ["否", "N", "NO", "0", "FALSE", "F"]
_PARSE_RULE = {
    "date": "date_format",
    "int": "integer_format",
    "number": "number_format",
    "bool": "boolean_format",
}
_EXCEL_EPOCH = pl.date(1899, 12, 30)
_TYPED = "__typed__"  # a typed column beside its text, while the cells' problems are looked for
# What Excel shows (and writes to CSV) for a formula that failed; the reader writes them too.
EXCEL_ERROR_VALUES = [
    "#N/A",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
]


def clean_text(expr: pl.Expr) -> pl.Expr:
    """NFKC and trimmed; the empty string is missing."""
    s = expr.str.normalize("NFKC").str.strip_chars()
    return pl.when(s.str.len_chars() > 0).then(s)


def clean_columns(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """`clean_text` of each of `names` (and nothing else of `frame`), cheaply at a million rows.

    NFKC is the costly part and changes no ASCII text: a column that is all ASCII is only
    trimmed. The other columns' distinct values (code lists, 是/否 and the like have a handful)
    are normalized once, all columns together, then mapped back; the result is exactly
    `clean_text`'s. (Together: a pass per column cost ≈ 1 ms of polars calls each, most of a small
    sheet's time — the demo's 236 files are ≈ 1,000 rows each.)
    """
    ascii_only = frame.select(
        (pl.col(n).str.len_bytes() == pl.col(n).str.len_chars()).all().alias(n) for n in names
    ).row(0, named=True)
    others = [n for n in names if not ascii_only[n]]
    if others:
        distinct = pl.concat([frame.get_column(n).drop_nulls() for n in others]).unique().alias("v")
        cleaned = distinct.to_frame().select(clean_text(pl.col("v")))["v"]
    out = []
    for n in names:
        if ascii_only[n]:
            s = pl.col(n).str.strip_chars()
            out.append(pl.when(s.str.len_chars() > 0).then(s).alias(n))
            continue
        out.append(pl.col(n).replace_strict(distinct, cleaned, default=None, return_dtype=pl.String).alias(n))
    return frame.select(out)


def parse_date(text: pl.Expr) -> pl.Expr:
    """Excel date cells and serials, 2007-03-05, 2007/3/5, 2007.3.5, 20070305, 2007年3月5日."""
    s = (
        text.str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
        .str.replace_all(r"[年月/.]", "-")
        .str.replace(r"日$", "")
    )
    s = (
        pl.when(s.str.contains(r"^\d{8}$"))
        .then(s.str.slice(0, 4) + "-" + s.str.slice(4, 2) + "-" + s.str.slice(6, 2))
        .otherwise(s)
    )
    serial = s.str.contains(r"^\d{2,5}$")
    from_serial = _EXCEL_EPOCH + pl.duration(days=s.cast(pl.Int64, strict=False))
    from_text = s.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return pl.when(serial).then(from_serial).when(s.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$")).then(from_text)


# How fastexcel reads an Excel date cell as text (and what most CSVs hold): no regex rewriting needed.
_PLAIN_DATE = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$"


def parse_plain_date(text: pl.Expr) -> pl.Expr:
    """`parse_date` for text matching `_PLAIN_DATE` (null otherwise), at a fraction of its cost."""
    return pl.when(text.str.contains(_PLAIN_DATE)).then(
        text.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    )


# No count, length or area of the format comes near this: a larger number is an ID (or a phone or
# account number) typed into a number cell, and is never stored — it fails as a number, its value
# quoted masked (warehouse.privacy), instead of reaching the warehouse as a count.
MAX_PLAUSIBLE_NUMBER = 1e12


def parse_number(text: pl.Expr) -> pl.Expr:
    """Numbers, also written as text with thousands separators (null above MAX_PLAUSIBLE_NUMBER)."""
    f = text.str.replace_all(r"[,，]", "").cast(pl.Float64, strict=False)
    return pl.when(f.abs() < MAX_PLAUSIBLE_NUMBER).then(f)


def parse_int(text: pl.Expr) -> pl.Expr:
    f = parse_number(text)
    return pl.when(f == f.round(0)).then(f).cast(pl.Int64, strict=False)


def parse_bool(text: pl.Expr) -> pl.Expr:
    u = text.str.to_uppercase()
    return pl.when(u.is_in(_TRUE)).then(True).when(u.is_in(_FALSE)).then(False).otherwise(None)


def typed_value(column: Column, text: pl.Expr) -> pl.Expr:
    match column.dtype:
        case "date":
            return parse_date(text)
        case "int":
            return parse_int(text)
        case "number":
            return parse_number(text)
        case "bool":
            return parse_bool(text)
        case "national_id":
            return upgrade_15_expr(text.str.to_uppercase())
        case "code":
            synonyms = code_synonyms(column.code_list or "")
            return text.replace(synonyms) if synonyms else text
        case _:
            return text


def holds_no_line_break(sheet: Sheet, column: Column) -> bool:
    """Whether a line break in the column's cells is a problem: everywhere but in free text (a unit's
    name, an activity's topic) of a sheet without personal data.

    A stray quote in a CSV (`"张三` with no closing quote) swallows the next rows into its cell up
    to the next quote, silently: the rows are lost, and in a sheet with IDs or names their text
    would be kept (or quoted in a problem) as this cell's value.
    """
    personal = any(c.dtype == "national_id" or not c.stored for c in sheet.columns)
    return personal or column.dtype != "text" or column.name.endswith(("_code", "_id"))


def normalize_sheet(raw: RawSheet, settings: IngestSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(typed frame with _row, problem frame) for one sheet."""
    columns = [c for c in raw.sheet.columns if c.stored]
    flags = [c for c in raw.frame.columns if c.startswith(PRESENT)]
    cleaned = pl.concat(
        [raw.frame.select(ROW), clean_columns(raw.frame, [c.name for c in columns])], how="horizontal"
    )
    # A date column whose every value is a plain date (Excel date cells) skips the general parser;
    # one unusual value and the whole column goes through `parse_date`, so the result is the same.
    dates = [c.name for c in columns if c.dtype == "date"]
    plain = (
        cleaned.select(
            (pl.col(n).is_null() | pl.col(n).str.contains(_PLAIN_DATE)).all().alias(n) for n in dates
        ).row(0, named=True)
        if dates
        else {}
    )
    typed = cleaned.select(
        ROW,
        *[
            (parse_plain_date(pl.col(c.name)) if plain.get(c.name) else typed_value(c, pl.col(c.name))).alias(
                c.name
            )
            for c in columns
        ],
    ).with_columns(raw.frame.select(flags))

    # One pass over the sheet: which cells are too long, hold an Excel error, could not be typed or
    # hold a line break. Most sheets have no such cell, and then nothing more is done.
    masks: dict[str, dict[str, pl.Expr]] = {}
    for c in columns:
        col = pl.col(c.name)
        masks[c.name] = {
            "_long": (col.str.len_chars() > settings.max_cell_chars).fill_null(False),
            "_error": col.is_in(EXCEL_ERROR_VALUES).fill_null(False),
            "_failed": pl.col(_TYPED + c.name).is_null() & col.is_not_null()
            if c.dtype in _PARSE_RULE
            else pl.lit(False),
            "_break": col.str.contains(r"[\r\n]").fill_null(False)
            if holds_no_line_break(raw.sheet, c)
            else pl.lit(False),
        }
    both = pl.concat(
        [cleaned, typed.select(pl.col(c.name).alias(_TYPED + c.name) for c in columns)], how="horizontal"
    )
    flagged = both.select(
        pl.any_horizontal(m.any() for m in masks[c.name].values()).alias(c.name) for c in columns
    ).row(0, named=True)
    problem_parts = [_name_line_breaks(raw)]
    for c in columns:
        if not flagged[c.name]:
            continue
        cells = both.select(ROW, c.name, **masks[c.name])
        value = mask_id_expr(c.name) if c.dtype == "national_id" else pl.col(c.name).str.slice(0, 200)
        problem_parts.append(
            cells.filter(pl.col("_failed") | pl.col("_long") | pl.col("_error") | pl.col("_break")).select(
                pl.lit(raw.sheet.name).alias("sheet"),
                pl.col(ROW).alias("row"),
                pl.lit(c.header).alias("column"),
                # a cell that swallowed rows may hold their IDs and names: its value is never quoted
                pl.when(pl.col("_break")).then(None).otherwise(value).alias("value"),
                pl.when(pl.col("_break"))
                .then(pl.lit("line_break_in_cell"))
                .when(pl.col("_long"))
                .then(pl.lit("text_too_long"))
                .when(pl.col("_error"))
                .then(pl.lit("excel_error"))
                .otherwise(pl.lit(_PARSE_RULE.get(c.dtype)))
                .alias("rule"),
                pl.lit("row").alias("severity"),
            )
        )
        # never keep an oversize cell, an error value as if it were text, nor a cell that swallowed rows
        dropped = cells["_long"] | cells["_error"] | cells["_break"]
        if dropped.any():
            typed = typed.with_columns(pl.when(dropped).then(None).otherwise(pl.col(c.name)).alias(c.name))
    problems = pl.concat(problem_parts).cast(PROBLEM_SCHEMA)
    return typed, problems


def _name_line_breaks(raw: RawSheet) -> pl.DataFrame:
    """Line breaks in never-stored cells (names), from the reader's flags: located, never quoted."""
    flags = [c for c in raw.frame.columns if c.startswith(LINE_BREAK)]
    if not flags or not raw.frame.select(pl.any_horizontal(flags).any()).item():
        return empty_problems()
    return pl.concat(
        [
            raw.frame.filter(pl.col(flag)).select(
                pl.lit(raw.sheet.name).alias("sheet"),
                pl.col(ROW).alias("row"),
                pl.lit(raw.sheet.column(flag.removeprefix(LINE_BREAK)).header).alias("column"),
                pl.lit(None, pl.String).alias("value"),
                pl.lit("line_break_in_cell").alias("rule"),
                pl.lit("row").alias("severity"),
            )
            for flag in flags
        ]
    ).cast(PROBLEM_SCHEMA)
