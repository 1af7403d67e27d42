"""Writing a submission as the spec's zip of CSVs (one UTF-8 CSV per sheet, named by its alias)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import polars as pl

from ingest import spec

from .snapshot import Submission


def _text(series: pl.Series, dtype: str) -> pl.Series:
    """The column as a clerk's CSV holds it: ISO dates, 是/否, everything else as written."""
    if dtype == "date":
        return series.dt.to_string("%Y-%m-%d")
    if dtype == "bool":
        return series.replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String)
    return series.cast(pl.String)


def _csv(frame: pl.DataFrame, header: bool = True) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_bom=True, include_header=header, line_terminator="\r\n")
    return buffer.getvalue()


def write_submission_zip(path: Path, sub: Submission) -> None:
    """`<code>_<period>.zip` with `cover.csv` and one CSV per data sheet; deterministic bytes."""
    submitted = dt.date(1970, 1, 1) + dt.timedelta(days=sub.submitted)
    cover = pl.DataFrame(
        {
            "key": [c.header for c in spec.COVER.columns],
            "value": [sub.district, sub.period, submitted.isoformat(), sub.submitted_by],
        }
    )
    entries = [(f"{spec.COVER.alias}.csv", _csv(cover, header=False))]
    for sheet in spec.DATA_SHEETS:
        frame = sub.tables[sheet.alias]
        text = pl.DataFrame([_text(frame[c.name], c.dtype).alias(c.header) for c in sheet.columns])
        entries.append((f"{sheet.alias}.csv", _csv(text)))
    when = (submitted.year, submitted.month, submitted.day, 9, 0, 0)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=1)
