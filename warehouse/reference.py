"""Reference data shared with dbt: reporting units and code lists are dbt seeds, read here too.

One source of truth per list: `dbt_project/seeds/*.csv`. Nothing in Python copies a code list.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PERIOD_PATTERN = re.compile(r"^(\d{4})H([12])$")
FIRST_PERIOD_YEAR = 2006  # the document's year: 2006H1 is the first period any unit reports

# The city as a whole: the row beside the reporting units in every attainment mart.
CITY_CODE = "120000"
# The statuses of mart_target_attainment, best to worst (dbt's accepted_values test lists the same).
STATUSES = ("achieved", "on_track", "at_risk", "missed", "no_data")


def project_root() -> Path:
    """The checkout this package runs from (an editable install), or $QIANGJI_PROJECT_ROOT."""
    override = os.environ.get("QIANGJI_PROJECT_ROOT")
    return Path(override) if override else Path(__file__).resolve().parents[1]


def seeds_dir() -> Path:
    return project_root() / "dbt_project" / "seeds"


@dataclass(frozen=True, order=True)
class Period:
    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = PERIOD_PATTERN.match(text)
        if not m:
            raise ValueError(f"not a period (YYYYH1 or YYYYH2): {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year}H{self.half}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30) if self.half == 1 else dt.date(self.year, 12, 31)

    @property
    def index(self) -> int:
        """Half-years since 2006H1 (0-based), the unit of the status line."""
        return (self.year - FIRST_PERIOD_YEAR) * 2 + self.half - 1

    @classmethod
    def from_index(cls, index: int) -> Period:
        """The period `index` half-years after 2006H1."""
        return cls(FIRST_PERIOD_YEAR + index // 2, index % 2 + 1)

    def next(self) -> Period:
        return Period(self.year, 2) if self.half == 1 else Period(self.year + 1, 1)


def period_range(first: str, last: str) -> list[Period]:
    p, end = Period.parse(first), Period.parse(last)
    out = []
    while p <= end:
        out.append(p)
        p = p.next()
    return out


@dataclass(frozen=True)
class ReportingUnit:
    code: str
    name: str
    kind: str  # district | county | system
    reports_from: Period
    reports_to: Period | None
    successor_code: str | None
    area_group: str

    def reports_in(self, period: Period) -> bool:
        return self.reports_from <= period and (self.reports_to is None or period <= self.reports_to)


@cache
def reporting_units() -> dict[str, ReportingUnit]:
    with open(seeds_dir() / "reporting_units.csv", encoding="utf-8", newline="") as f:
        return {
            row["unit_code"]: ReportingUnit(
                code=row["unit_code"],
                name=row["unit_name"],
                kind=row["kind"],
                reports_from=Period.parse(row["reports_from"]),
                reports_to=Period.parse(row["reports_to"]) if row["reports_to"] else None,
                successor_code=row["successor_code"] or None,
                area_group=row["area_group"],
            )
            for row in csv.DictReader(f)
        }


@cache
def code_values(code_list: str) -> tuple[str, ...]:
    with open(seeds_dir() / "code_values.csv", encoding="utf-8", newline="") as f:
        values = tuple(row["code"] for row in csv.DictReader(f) if row["code_list"] == code_list)
    if not values:
        raise KeyError(f"no code list {code_list!r} in code_values.csv")
    return values


@cache
def code_synonyms(code_list: str) -> dict[str, str]:
    with open(seeds_dir() / "code_synonyms.csv", encoding="utf-8", newline="") as f:
        return {row["synonym"]: row["code"] for row in csv.DictReader(f) if row["code_list"] == code_list}
