"""Ground truth: target figures computed from the generator's own tables, never from the files.

One small function per target takes one submission's frames and returns (numerator,
denominator) for that submission alone; cumulative targets are summed over periods afterwards.
The definitions follow ../shared/spec/targets.md. Add a target by adding a function and an
entry in PERIOD_TARGETS or CUMULATIVE_TARGETS.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from .. import spec
from . import profiles as P
from .snapshot import Submission

Figures = tuple[int, int]  # (numerator, denominator)


def village_venue(sub: Submission) -> Figures:
    units = sub.tables[spec.UNITS.alias].filter(pl.col("unit_type") == P.VILLAGE)
    return int(units["has_venue"].fill_null(False).sum()), units.height


def halfyear_committee_meeting(sub: Submission) -> Figures:
    units = sub.tables[spec.UNITS.alias]
    committee = units.filter(pl.col("unit_type").is_in([P.COMMITTEE_DISTRICT, P.COMMITTEE_SYSTEM]))[
        "covering_org_code"
    ].item()
    meetings = sub.tables[spec.ACTIVITIES.alias].filter(
        (pl.col("activity_type") == "党委会")
        & (pl.col("org_code") == committee)
        & pl.col("topic").str.contains(P.PROJECT_WORD, literal=True).fill_null(False)
    )
    return int(meetings.height > 0), 1


def dev_female(sub: Submission) -> Figures:
    """This submission's admissions and the women among them (gender from its 党员 sheet)."""
    admitted = sub.tables[spec.ADMISSIONS.alias].join(
        sub.tables[spec.MEMBERS.alias].select("national_id", "gender"), on="national_id", how="left"
    )
    return int((admitted["gender"] == "女").sum()), admitted.height


PERIOD_TARGETS: dict[str, Callable[[Submission], Figures]] = {
    "village_venue": village_venue,
    "halfyear_committee_meeting": halfyear_committee_meeting,
}
CUMULATIVE_TARGETS: dict[str, Callable[[Submission], Figures]] = {
    "dev_female": dev_female,
}


def submission_figures(sub: Submission) -> dict[str, Figures]:
    return {tid: f(sub) for tid, f in (PERIOD_TARGETS | CUMULATIVE_TARGETS).items()}


def ground_truth_rows(
    figures: dict[tuple[str, str], dict[str, Figures]], periods: list[str], districts: Iterable[str]
) -> list[tuple[str, str, str, int, int]]:
    """Rows (target_id, district_code, period, numerator, denominator): units, then the city.

    figures: per (district, period) submitted, that submission's own figures. Cumulative targets
    add up a district's periods from the first generated one; the city adds every submission.
    """
    rows = []
    order = [*districts, spec.CITY_CODE]
    for tid in [*PERIOD_TARGETS, *CUMULATIVE_TARGETS]:
        cumulative = tid in CUMULATIVE_TARGETS
        running: dict[str, list[int]] = {}
        for period in periods:
            city = [0, 0]
            for district in order[:-1]:
                fig = figures.get((district, period))
                if fig is None:
                    continue
                num, den = fig[tid]
                if cumulative:
                    acc = running.setdefault(district, [0, 0])
                    acc[0] += num
                    acc[1] += den
                    num, den = acc
                rows.append((tid, district, period, num, den))
                city[0] += fig[tid][0]
                city[1] += fig[tid][1]
            if cumulative:
                acc = running.setdefault(spec.CITY_CODE, [0, 0])
                acc[0] += city[0]
                acc[1] += city[1]
                city = acc
            rows.append((tid, spec.CITY_CODE, period, city[0], city[1]))
    return rows


def write_ground_truth(path: Path, rows: list[tuple[str, str, str, int, int]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["target_id", "district_code", "period", "numerator", "denominator"])
        w.writerows(rows)
