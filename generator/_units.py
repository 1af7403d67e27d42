"""The reporting units in seed order (districts.csv), as the generator walks them."""

from __future__ import annotations

from warehouse.reference import ReportingUnit
from warehouse.reference import reporting_units as _by_code


def reporting_units() -> tuple[ReportingUnit, ...]:
    return tuple(_by_code().values())
