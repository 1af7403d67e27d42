"""Ground truth: the 26 targets computed from the generator's own tables, never from the files.

`submission_figures` reads one submission's frames and returns, per target, what that
submission contributes: its own (numerator, denominator), or for a yearly target that joins
both halves the pieces to join (`Evaluation`, `Training`). `ground_truth_rows` then builds the
rows of ../shared/spec/targets.md: every period target per unit and period, the cumulative
dev_* targets summed from the first generated period, the yearly targets on H2 periods, and
the city (code 120000) as the sum over the units that submitted (community_demo_sites: city
rows only, a count with no denominator). Written from targets.md alone, independently of the
warehouse's SQL, so the two can be compared.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest import spec
from warehouse.reference import CITY_CODE

from .snapshot import Submission

Pair = tuple[int, int]  # (numerator, denominator)
Row = tuple[str, str, str, int | None, int | None]  # target_id, district_code, period, numerator, denominator

# Settings of targets.md
AGE_LIMIT = 35  # dev_under35: age at admission <= 35
TRAINING_DAYS = 10  # rural_training_*: training days in the year >= 10

COVERING = ("党委", "党工委", "党总支", "党支部", "联合党支部")
COMMITTEE_UNITS = ("区县党委", "系统党委")
SOES = ("国有独资企业", "国有控股企业")
TWO_NEW = ("非公有制企业", "社会组织")
DISTRESSED = ("停产", "关闭", "破产", "困难")
HS_PLUS = ("研究生", "大学本科", "大学专科", "中专", "高中")
NEW_COMPOUND_FROM = dt.date(2006, 1, 1)
PROJECT_WORD = "强基创先"
CITY_ORGANIZATION_DEPARTMENT = "市委组织部"
INSPECTION = "检查评估"
EVALUATED = {"高等院校": "univ_evaluation", "医疗卫生机构": "hospital_evaluation"}  # unit type -> target
CADRES = {"乡镇干部": "rural_training_township", "村干部": "rural_training_village"}  # cadre_type -> target
UNIT_KEYS = ("unit_type", "covering_org_code", "cov_type")
ACTIVITY_KEYS = ("activity_type", "org_code", "topic", "organizer")
CADRE_KEYS = ("national_id", "cadre_type")


@dataclass(frozen=True)
class Evaluation:
    """univ_evaluation / hospital_evaluation, one half: the units' committees and who was evaluated."""

    committees: tuple[str, ...]  # per unit of the type covered by a 党委 (snapshot): that 党委's code
    evaluated: frozenset[str]  # organizations with a 检查评估 activity in the half


@dataclass(frozen=True)
class Training:
    """rural_training_*, one half: the cadres of the type (snapshot) and everyone's training days."""

    cadres: tuple[str, ...]  # national IDs
    days: Mapping[str, float]  # national ID -> days in the district's own 培训 rows of the half


Figures = Pair | Evaluation | Training  # what one submission contributes to one target


# ---- one submission -----------------------------------------------------------------------


def _unit_exprs() -> tuple[list[str], list[pl.Expr]]:
    """The unit-based targets and one select that sums their (numerator, denominator), on the 单位
    rows joined with the type of their covering organization (`cov_type`, null when uncovered or
    dangling). Per target: (denominator set, numerator condition)."""
    kind = pl.col("unit_type")
    covered = pl.col("cov_type").is_in(COVERING)
    two_new = kind.is_in(TWO_NEW)
    members = pl.col("member_count")
    employees = pl.col("employee_count")
    npe = kind == "非公有制企业"
    rules = {
        "soe_four_good": (kind.is_in(SOES), pl.col("rating") == "四好"),
        "soe_distressed_org": (kind.is_in(SOES) & pl.col("operating_status").is_in(DISTRESSED), covered),
        "township_five_good": (kind == "乡镇", pl.col("rating") == "五个好"),
        "village_five_good": (kind == "行政村", pl.col("rating") == "五个好"),
        "village_venue": (kind == "行政村", pl.col("has_venue")),
        "community_committee": (kind == "社区", pl.col("cov_type").is_in(("党委", "党总支"))),
        "new_compound_org": (
            (kind == "居民小区") & (pl.col("built_date") >= pl.lit(NEW_COMPOUND_FROM)),
            covered,
        ),
        "community_demo_sites": (kind == "社区", pl.col("is_demo_site")),
        "twonew_org_coverage": (two_new & (members >= 3), covered & (pl.col("cov_type") != "联合党支部")),
        "twonew_joint_coverage": (two_new & members.is_between(1, 2), covered),
        "twonew_instructor": (two_new & (members == 0), pl.col("has_instructor")),
        "npe30_member": (npe & (employees >= 30), members >= 1),
        "npe50_org": (npe & ((employees >= 50) | pl.col("is_high_tech")), covered),
    }
    exprs = []
    for tid, (den, num) in rules.items():
        den = den.fill_null(False)
        exprs.append((den & num.fill_null(False)).sum().alias(f"{tid}.n"))
        exprs.append(den.sum().alias(f"{tid}.d"))
    # soe_cross_appoint: sums over the SOEs with both figures
    both = pl.col("board_members").is_not_null() & pl.col("cross_appointed").is_not_null()
    soe = kind.is_in(SOES) & both
    exprs.append(pl.col("cross_appointed").filter(soe).sum().alias("soe_cross_appoint.n"))
    exprs.append(pl.col("board_members").filter(soe).sum().alias("soe_cross_appoint.d"))
    return [*rules, "soe_cross_appoint"], exprs


_UNIT_TARGETS, _UNIT_EXPRS = _unit_exprs()


def _units_with_cover(sub: Submission) -> pl.DataFrame:
    orgs = sub.tables[spec.ORGANIZATIONS.alias].select(
        pl.col("org_code").alias("covering_org_code"), pl.col("org_type").alias("cov_type")
    )
    return sub.tables[spec.UNITS.alias].join(orgs, on="covering_org_code", how="left")


def _unit_figures(units: pl.DataFrame) -> dict[str, Pair]:
    row = units.select(_UNIT_EXPRS).row(0, named=True)
    return {tid: (int(row[f"{tid}.n"] or 0), int(row[f"{tid}.d"] or 0)) for tid in _UNIT_TARGETS}


def _month_day(d: pl.Expr) -> pl.Expr:
    return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)


def _admission_exprs() -> list[pl.Expr]:
    """dev_*: the numerators, on the admissions joined with their 党员 rows."""
    admitted, born = pl.col("admission_date"), pl.col("birth_date")
    # age in completed years: the birthday of the admission year reached or not
    birthday_not_reached = _month_day(admitted) < _month_day(born)
    age = admitted.dt.year() - born.dt.year() - birthday_not_reached.cast(pl.Int32)
    # activist_date + 1 year as a calendar date (a 29 February becomes the 28th)
    complete = pl.col("activist_date").dt.offset_by("1y") <= admitted
    steps = pl.col("recommended") & pl.col("prereviewed") & pl.col("publicized")
    nums = {
        "dev_under35": age <= AGE_LIMIT,
        "dev_hs_plus": pl.col("education").is_in(HS_PLUS),
        "dev_female": pl.col("gender") == "女",
        "dev_process": steps.fill_null(False) & complete,
        "dev_ballot": pl.col("ballot"),
    }
    return [e.fill_null(False).sum().alias(tid) for tid, e in nums.items()]


_ADMISSION_EXPRS = _admission_exprs()


def _admission_figures(sub: Submission) -> dict[str, Pair]:
    """dev_*: this submission's admissions, their attributes from its own 党员 rows."""
    members = sub.tables[spec.MEMBERS.alias].select("national_id", "gender", "birth_date", "education")
    adm = sub.tables[spec.ADMISSIONS.alias].join(members, on="national_id", how="left")
    row = adm.select(_ADMISSION_EXPRS).row(0, named=True)
    return {tid: (int(n), adm.height) for tid, n in row.items()}


def submission_figures(sub: Submission) -> dict[str, Figures]:
    """Per target, what this submission contributes (see the module doc)."""
    units = _units_with_cover(sub)
    members, acts = sub.tables[spec.MEMBERS.alias], sub.tables[spec.ACTIVITIES.alias]
    out: dict[str, Figures] = {}
    out.update(_unit_figures(units))
    floating = members.filter(pl.col("is_floating").fill_null(False))
    out["floating_managed"] = (int(floating["floating_managed_by"].is_not_null().sum()), floating.height)
    out.update(_admission_figures(sub))

    # the reporting unit's committee: the covering organization of its one 区县党委/系统党委 unit;
    # per evaluation target, the covering 党委 of each university (hospital)
    committee_units, evaluated_committees = [], {tid: [] for tid in EVALUATED.values()}
    few = units.filter(pl.col("unit_type").is_in([*COMMITTEE_UNITS, *EVALUATED]))
    for kind, code, cov_type in few.select(UNIT_KEYS).rows():
        if kind in COMMITTEE_UNITS:
            committee_units.append(code)
        elif cov_type == "党委":
            evaluated_committees[EVALUATED[kind]].append(code)
    committee = committee_units[0] if len(committee_units) == 1 else None

    meeting, inspected, evaluated = False, False, set()
    events = acts.filter(pl.col("activity_type").is_in(["党委会", INSPECTION]))
    for kind, org, topic, organizer in events.select(ACTIVITY_KEYS).rows():
        if kind == "党委会":
            meeting |= org == committee and PROJECT_WORD in (topic or "")
        else:
            evaluated.add(org)
            inspected |= CITY_ORGANIZATION_DEPARTMENT in (organizer or "")
    out["halfyear_committee_meeting"] = (int(meeting), 1)
    out["annual_inspection"] = (int(inspected), 1)
    for tid, codes in evaluated_committees.items():
        out[tid] = Evaluation(tuple(codes), frozenset(evaluated))

    days_by_id = sub.tables[spec.TRAINING.alias].group_by("national_id").agg(pl.col("days").sum())
    days = dict(zip(days_by_id["national_id"].to_list(), days_by_id["days"].to_list(), strict=True))
    cadres: dict[str, list[str]] = {tid: [] for tid in CADRES.values()}
    for nid, cadre_type in members.filter(pl.col("cadre_type").is_not_null()).select(CADRE_KEYS).rows():
        if cadre_type in CADRES:
            cadres[CADRES[cadre_type]].append(nid)
    for tid, ids in cadres.items():
        out[tid] = Training(tuple(ids), days)
    return out


# ---- joining halves and periods -----------------------------------------------------------


def _pair(f: Figures | None) -> Pair:
    if not isinstance(f, tuple):
        raise TypeError(f"expected (numerator, denominator), got {f!r}")
    return f


def _sum(h1: Figures, h2: Figures) -> Pair:
    (n1, d1), (n2, d2) = _pair(h1), _pair(h2)
    return n1 + n2, d1 + d2


def _either(h1: Figures, h2: Figures) -> Pair:
    return max(_pair(h1)[0], _pair(h2)[0]), 1


def _evaluation(h1: Figures, h2: Figures) -> Pair:
    assert isinstance(h1, Evaluation) and isinstance(h2, Evaluation)
    evaluated = h1.evaluated | h2.evaluated
    return sum(code in evaluated for code in h2.committees), len(h2.committees)


def _training(h1: Figures, h2: Figures) -> Pair:
    assert isinstance(h1, Training) and isinstance(h2, Training)
    trained = sum(h1.days.get(nid, 0.0) + h2.days.get(nid, 0.0) >= TRAINING_DAYS for nid in h2.cadres)
    return trained, len(h2.cadres)


# Yearly targets, on H2 periods. Snapshot-based (the H2 snapshot alone) vs event-based (both halves).
SNAPSHOT_YEARLY = ("soe_cross_appoint",)
EVENT_YEARLY: dict[str, Callable[[Figures, Figures], Pair]] = {
    "univ_evaluation": _evaluation,
    "hospital_evaluation": _evaluation,
    "rural_training_township": _training,
    "rural_training_village": _training,
    "dev_process": _sum,
    "dev_ballot": _sum,
    "annual_inspection": _either,
}
CUMULATIVE = ("dev_under35", "dev_hs_plus", "dev_female")
CITY_COUNT = ("community_demo_sites",)
TARGETS = (  # the order of targets.md
    "soe_four_good", "soe_cross_appoint", "soe_distressed_org", "township_five_good", "village_five_good",
    "village_venue", "community_committee", "new_compound_org", "community_demo_sites",
    "twonew_org_coverage", "twonew_joint_coverage", "twonew_instructor", "npe30_member", "npe50_org",
    "univ_evaluation", "hospital_evaluation", "rural_training_township", "rural_training_village",
    "floating_managed", "dev_under35", "dev_hs_plus", "dev_female", "dev_process", "dev_ballot",
    "halfyear_committee_meeting", "annual_inspection",
)  # fmt: skip


def _first_half(period: str) -> str:
    return period[:4] + "H1"


def _unit_value(
    tid: str, figures: dict[tuple[str, str], dict[str, Figures]], district: str, period: str
) -> Pair | None:
    """A unit's yearly value on an H2 period; None when a half it needs was not generated."""
    h2 = figures[(district, period)][tid]
    if tid in SNAPSHOT_YEARLY:
        return _pair(h2)
    h1 = figures.get((district, _first_half(period)))
    return None if h1 is None else EVENT_YEARLY[tid](h1[tid], h2)


def ground_truth_rows(
    figures: dict[tuple[str, str], dict[str, Figures]], periods: list[str], districts: Iterable[str]
) -> list[Row]:
    """Rows (target_id, district_code, period, numerator, denominator): units, then the city.

    figures: per (district, period) submitted, `submission_figures` of that submission. Every
    unit that reports in a period has a submission (the generated data is complete), so the
    city sums every unit of the period. Cumulative targets add up from the first generated
    period; a yearly event-based row whose H1 was not generated has no value (empty cells).
    """
    rows: list[Row] = []
    order = list(districts)
    for tid in TARGETS:
        running: dict[str, Pair] = {}
        for period in periods:
            yearly = tid in SNAPSHOT_YEARLY or tid in EVENT_YEARLY
            if yearly and not period.endswith("H2"):
                continue
            city: Pair | None = None
            for district in order:
                if (district, period) not in figures:
                    continue
                if yearly:
                    value = _unit_value(tid, figures, district, period)
                else:
                    value = _pair(figures[(district, period)][tid])
                if value is not None:
                    city = value if city is None else (city[0] + value[0], city[1] + value[1])
                if tid in CUMULATIVE:
                    assert value is not None
                    before = running.get(district, (0, 0))
                    value = running[district] = (before[0] + value[0], before[1] + value[1])
                if tid not in CITY_COUNT:
                    rows.append((tid, district, period, *(value or (None, None))))
            if tid in CUMULATIVE and city is not None:
                before = running.get(CITY_CODE, (0, 0))
                city = running[CITY_CODE] = (before[0] + city[0], before[1] + city[1])
            if tid in CITY_COUNT:
                rows.append((tid, CITY_CODE, period, city[0] if city else 0, None))
            else:
                rows.append((tid, CITY_CODE, period, *(city or (None, None))))
    return rows


def write_ground_truth(path: Path, rows: list[Row]) -> None:
    """ground_truth.csv; an empty cell is no value (a count's denominator, a year without its H1)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["target_id", "district_code", "period", "numerator", "denominator"])
        w.writerows(rows)
