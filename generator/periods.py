"""Half-year periods as integer indexes (2006H1 = 0) and dates as days since 1970-01-01."""

from __future__ import annotations

import numpy as np

from warehouse.reference import FIRST_PERIOD_YEAR as BASE_YEAR
from warehouse.reference import Period

EXCEL_EPOCH_OFFSET = 25569  # Excel serial of 1970-01-01
NEVER = 9999  # a period index no snapshot reaches


def period_index(period: str) -> int:
    t = Period.parse(period).index
    if t < 0:
        raise ValueError(f"{period} is before {BASE_YEAR}H1, the first reporting period")
    return t


def period_label(t: int) -> str:
    return str(Period.from_index(t))


def day(year: int, month: int = 1, dom: int = 1) -> int:
    return int(np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D").astype(np.int64))


def period_bounds(t: int) -> tuple[int, int]:
    """First and last day of period `t` (inclusive)."""
    year = BASE_YEAR + t // 2
    if t % 2 == 0:
        return day(year, 1, 1), day(year, 6, 30)
    return day(year, 7, 1), day(year, 12, 31)
