"""Half-year periods as integer indexes (2006H1 = 0) and dates as days since 1970-01-01."""

from __future__ import annotations

import re

import numpy as np

BASE_YEAR = 2006  # the document's year: the first period any unit reports
EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01
NEVER = 9999  # a period index no snapshot reaches

_PERIOD = re.compile(r"^(\d{4})H([12])$")


def period_index(period: str) -> int:
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(f"not a period (YYYYH1 or YYYYH2): {period!r}")
    t = (int(m.group(1)) - BASE_YEAR) * 2 + int(m.group(2)) - 1
    if t < 0:
        raise ValueError(f"{period} is before {BASE_YEAR}H1, the first reporting period")
    return t


def period_label(t: int) -> str:
    return f"{BASE_YEAR + t // 2}H{t % 2 + 1}"


def day(year: int, month: int = 1, dom: int = 1) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D").astype(np.int64))


def period_bounds(t: int) -> tuple[int, int]:
    """First and last day of period `t` (inclusive)."""
    year = BASE_YEAR + t // 2
    if t % 2 == 0:
        return day(year, 1, 1), day(year, 6, 30)
    return day(year, 7, 1), day(year, 12, 31)
