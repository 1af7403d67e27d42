"""Writing a submission as an xlsx workbook the way a district's Excel would hold it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

from ingest import spec

from .periods import EXCEL_EPOCH_OFFSET
from .snapshot import Submission

DATE_FORMAT = "yyyy-mm-dd"


def _cells(series: pl.Series, dtype: str) -> list:
    """The column as cell values: dates as Excel serials, booleans as 是/否, nulls as None."""
    if dtype == "date":
        return (series.cast(pl.Int32) + EXCEL_EPOCH_OFFSET).to_list()
    if dtype == "bool":
        return series.replace_strict(
            {True: "是", False: "否"}, default=None, return_dtype=pl.String
        ).to_list()
    return series.to_list()


def new_workbook(path: Path, title: str, author: str, created: dt.datetime) -> xlsxwriter.Workbook:
    """A workbook whose bytes depend only on its content (fixed creation time, text kept as text)."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": title, "author": author, "created": created})
    return workbook


def write_submission(path: Path, sub: Submission) -> None:
    """One workbook, one sheet per spec sheet in the spec's order; deterministic bytes."""
    created = dt.datetime(1970, 1, 1) + dt.timedelta(days=sub.submitted, hours=9)
    workbook = new_workbook(path, f"{sub.district} {sub.period}", sub.submitted_by, created)
    date_format = workbook.add_format({"num_format": DATE_FORMAT})
    header_format = workbook.add_format({"bold": True})

    cover = workbook.add_worksheet(spec.COVER.name)
    values = {
        "district_code": sub.district,
        "period": sub.period,
        "submitted_date": sub.submitted + EXCEL_EPOCH_OFFSET,
        "submitted_by": sub.submitted_by,
    }
    for row, column in enumerate(spec.COVER.columns):
        cover.write_string(row, 0, column.header)
        if column.dtype == "date":
            cover.write_number(row, 1, values[column.name], date_format)
        else:
            cover.write_string(row, 1, values[column.name])
    cover.set_column(0, 1, 16)

    for sheet in spec.DATA_SHEETS:
        ws = workbook.add_worksheet(sheet.name)
        ws.write_row(0, 0, [c.header for c in sheet.columns], header_format)
        ws.set_column(0, len(sheet.columns) - 1, 14)
        ws.freeze_panes(1, 0)
        frame = sub.tables[sheet.alias]
        for col, column in enumerate(sheet.columns):
            cells = _cells(frame[column.name], column.dtype)
            if column.dtype != "date":
                ws.write_column(1, col, cells)  # None and "" write nothing
            elif frame[column.name].null_count() == 0:
                ws.write_column(1, col, cells, date_format)
            else:  # a formatted None would be a styled blank cell: skip the empty ones
                write = ws.write_number
                for row, value in enumerate(cells, start=1):
                    if value is not None:
                        write(row, col, value, date_format)
    workbook.close()
