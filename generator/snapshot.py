"""One submission: the sheets of a reporting unit for a period, as polars frames.

The frames carry every column of the spec (`ingest.spec`) under its English name, typed
(dates as pl.Date, booleans as pl.Boolean, empty cells as nulls). The ground truth reads
these frames and the writer turns them into cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest import spec
from warehouse.reference import ReportingUnit
from warehouse.reference import code_values as code_list

from . import profiles as P
from ._units import reporting_units
from .events import Events, period_events
from .periods import period_bounds, period_index, period_label
from .universe import BLANK_SHARE, Universe, ix, person_names

SLOT = 1_000_000  # codes of a predecessor's entities under its successor: slot * SLOT + local number


@dataclass
class Submission:
    district: str
    period: str
    submitted: int  # days since 1970-01-01
    submitted_by: str
    tables: dict[str, pl.DataFrame]  # sheet alias -> frame with the spec's English column names


def reporter_at(code: str, t: int) -> str | None:
    """Who reports the entities of source `code` in period t (following successors)."""
    units = {u.code: u for u in reporting_units()}
    seen = set()
    while code not in seen:
        seen.add(code)
        ru = units[code]
        if t < period_index(str(ru.reports_from)):
            return None
        if ru.reports_to is None or t <= period_index(str(ru.reports_to)):
            return code
        if not ru.successor_code:
            return None
        code = ru.successor_code
    return None


def sources_of(reporter: str) -> list[ReportingUnit]:
    """The reporting unit itself and every unit whose entities ever pass to it (the slot order)."""
    units = reporting_units()
    by_code = {u.code: u for u in units}

    def ends_at(code: str) -> bool:
        seen = set()
        while code and code not in seen:
            if code == reporter:
                return True
            seen.add(code)
            code = by_code[code].successor_code or ""
        return False

    return [by_code[reporter]] + [u for u in units if u.code != reporter and ends_at(u.code)]


def _codes(prefix: str, numbers: np.ndarray) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), 6))


def _with_nulls(name: str, values: np.ndarray, valid: np.ndarray, dtype: pl.DataType) -> pl.Series:
    s = pl.Series(name, values)
    if dtype == pl.Date:
        s = s.cast(pl.Int32).cast(pl.Date)
    else:
        s = s.cast(dtype)
    if not valid.all():
        s.scatter(np.flatnonzero(~valid), None)
    return s


def _labels(name: str, list_name: str, idx: np.ndarray) -> pl.Series:
    labels = np.array(code_list(list_name), dtype=object)
    valid = idx >= 0
    return _with_nulls(name, labels[np.where(valid, idx, 0)], valid, pl.String)


def _bools(name: str, value: np.ndarray, valid: np.ndarray) -> pl.Series:
    return _with_nulls(name, value.astype(bool), valid, pl.Boolean)


def _frame(sheet: spec.Sheet, columns: dict[str, pl.Series], n: int) -> pl.DataFrame:
    """All the sheet's columns, in the spec's order; absent ones all null."""
    dtypes = {"int": pl.Int64, "number": pl.Float64, "bool": pl.Boolean, "date": pl.Date}
    out = []
    for c in sheet.columns:
        if c.name in columns:
            out.append(columns[c.name].alias(c.name))
        else:
            out.append(pl.Series(c.name, [None] * n, dtype=dtypes.get(c.dtype, pl.String)))
    return pl.DataFrame(out)


class _Part:
    """One source's share of a submission, with its codes rendered under the reporter."""

    def __init__(self, u: Universe, reporter: str, slot: int, t: int) -> None:
        self.u, self.t = u, t
        self.reporting = u.ru.code == reporter
        self.unit_prefix = f"{reporter}-U"
        self.org_prefix = f"{reporter}-O"
        self.offset = slot * SLOT
        self.reporter_committee = f"{reporter}-O{0:06d}"
        self.orgs = np.flatnonzero(u.orgs["from_t"] <= t)
        m = u.members
        self.members = np.flatnonzero((m["enter_t"] <= t) & (m["exit_t"] > t))
        up = u.orgs["up_t"][self.orgs] <= t
        self.org_type = np.where(up, u.orgs["up_type"][self.orgs], u.orgs["type"][self.orgs])
        if not self.reporting:
            self.org_type[0] = ix("org_type", "党工委")  # a predecessor's committee under its successor

    def org_codes(self, local: np.ndarray) -> np.ndarray:
        return _codes(self.org_prefix, local + self.offset)

    def _declared_as_registered(
        self, idx: np.ndarray, covered: np.ndarray, mc0: np.ndarray, declared: np.ndarray, actual: np.ndarray
    ) -> np.ndarray:
        """The members a covered two-new unit declares, consistent with those registered.

        At small scales fewer members are drawn than the units' sizes say; a district's file still
        declares what its organizations register (the quality checks compare the two). A unit with
        an organization of its own declares its registered members (at least three: why it has one);
        the units of a 联合党支部 declare theirs scaled down to the branch's registered members, one
        or two each (why they share one).
        """
        u = self.u
        cov_org = u.units["cov_org"][idx]
        own = covered & (u.orgs["unit"][cov_org] == idx) & (mc0 >= 3)
        declared = np.where(own, np.maximum(3, actual), declared)
        joint = covered & (u.orgs["type"][cov_org] == ix("org_type", "联合党支部"))
        if joint.any():
            registered = np.bincount(u.members["org"][self.members], minlength=len(u.orgs))
            branch = cov_org[joint]
            total = np.bincount(branch, weights=declared[joint], minlength=len(u.orgs))[branch]
            ratio = np.minimum(1.0, registered[branch] / np.maximum(total, 1))
            declared[joint] = np.clip(np.round(declared[joint] * ratio), 1, 2).astype(np.int64)
        return declared

    def units(self) -> dict[str, pl.Series]:
        u, t = self.u, self.t
        U = u.units
        idx = np.flatnonzero(U["from_t"] <= t)
        unit_type = U["type"][idx].astype(np.int64)
        names = U["name"][idx].copy()
        committee_types = {ix("unit_type", P.COMMITTEE_DISTRICT), ix("unit_type", P.COMMITTEE_SYSTEM)}
        if not self.reporting:
            own = np.isin(unit_type, list(committee_types))
            unit_type[own] = ix("unit_type", P.ORGAN)
            names[own] = u.ru.name[:-1] + "工委"
        types = np.array(code_list("unit_type"))[unit_type]
        is_type = lambda *labels: np.isin(types, labels)  # noqa: E731
        covered = U["cov_t"][idx] <= t
        cov = self.org_codes(np.where(covered, U["cov_org"][idx], 0))
        age = t - U["from_t"][idx]
        emp = np.round(U["emp"][idx] * (1 + U["emp_growth"][idx]) ** age).astype(np.int64)
        two_new = is_type(*P.TWO_NEW)
        mc0 = U["mc"][idx]
        mc_two_new = np.where(mc0 > 0, mc0, (U["mc_t"][idx] <= t).astype(np.int64))
        # SOEs: the members actually registered in their organizations
        member_org_unit = u.orgs["unit"][u.members["org"][self.members]]
        actual = np.bincount(member_org_unit[member_org_unit >= 0], minlength=len(U))[idx]
        soe = is_type(*P.SOES)
        mc_two_new = self._declared_as_registered(idx, two_new & covered, mc0, mc_two_new, actual)
        member_count = np.where(two_new, mc_two_new, actual)
        good = U["good_t"][idx] <= t
        good_label = np.where(is_type(*P.SOES), "四好", "五个好")
        ratings = np.array(code_list("rating"), dtype=object)
        other = U["rating_other"][idx]
        rating = np.where(good, good_label, ratings[np.where(other >= 0, other, 0)])
        board = U["board"][idx]
        cross = np.floor(board * np.clip(U["cross_base"][idx] + u.cross_offset[t // 2], 0, 1))
        has_cross = (board >= 0) & ~np.isnan(U["cross_base"][idx])
        blank = U["blank"][idx] < BLANK_SHARE  # a 否 left empty
        village, community = is_type(P.VILLAGE), is_type(P.COMMUNITY)
        venue = U["venue_t"][idx] <= t
        demo = U["demo_t"][idx] <= t
        instr_applies = two_new & (mc_two_new == 0)
        instr = U["instr_t"][idx] <= t
        high_tech = U["high_tech"][idx]
        return {
            "unit_code": pl.Series(_codes(self.unit_prefix, idx + self.offset)),
            "unit_name": pl.Series(names.astype(str)),
            "unit_type": pl.Series(types),
            "covering_org_code": _with_nulls("c", cov, covered, pl.String),
            "employee_count": _with_nulls("c", emp, U["emp"][idx] >= 0, pl.Int64),
            "member_count": _with_nulls("c", member_count, two_new | soe, pl.Int64),
            "is_high_tech": _bools("c", high_tech == 1, high_tech >= 0),
            "rating": _with_nulls("c", rating, good | (other >= 0), pl.String),
            "board_members": _with_nulls("c", board, board >= 0, pl.Int64),
            "cross_appointed": _with_nulls("c", np.nan_to_num(cross).astype(np.int64), has_cross, pl.Int64),
            "operating_status": _labels("c", "operating_status", U["status"][idx]),
            "has_venue": _bools("c", venue, village & (venue | ~blank)),
            "is_demo_site": _bools("c", demo, community & (demo | ~blank)),
            "has_instructor": _bools("c", instr, instr_applies & (instr | ~blank)),
            "built_date": _with_nulls("c", U["built"][idx], U["built"][idx] >= 0, pl.Date),
        }

    def organizations(self) -> dict[str, pl.Series]:
        u, orgs = self.u, self.orgs
        parent = u.orgs["parent"][orgs]
        parent_codes = self.org_codes(np.where(parent >= 0, parent, 0))
        has_parent = parent >= 0
        if not self.reporting:
            parent_codes[0] = self.reporter_committee
            has_parent[0] = True
        type_labels = np.array(code_list("org_type"))[self.org_type]
        names = np.char.add(u.orgs["base"][orgs].astype(str), type_labels)
        return {
            "org_code": pl.Series(self.org_codes(orgs)),
            "org_name": pl.Series(names),
            "org_type": pl.Series(type_labels),
            "parent_org_code": _with_nulls("c", parent_codes, has_parent, pl.String),
            "established_date": _with_nulls("c", u.orgs["est"][orgs], np.ones(len(orgs), bool), pl.Date),
            "secretary_name": pl.Series(u.orgs["secretary"][orgs].astype(str)),
        }

    def member_table(self) -> dict[str, pl.Series]:
        u, t, idx = self.u, self.t, self.members
        m = u.members
        _, p_end = period_bounds(t)
        full = m["full"][idx] <= p_end
        floating = np.mod(m["float_u"][idx] + 0.011 * t, 1.0) < m["float_rate"][idx]
        managed = floating & (m["managed_u"][idx] < u.s_managed[t])
        managers = np.array(P.FLOATING_MANAGERS, dtype=object)[m["manager"][idx]]
        statuses = np.where(full, "正式党员", "预备党员")
        return {
            "national_id": pl.Series(u.national_ids[idx]),
            "name": pl.Series(m["name"][idx]),
            "gender": pl.Series(np.where(m["female"][idx], "女", "男")),
            "birth_date": _with_nulls("c", m["birth"][idx], np.ones(len(idx), bool), pl.Date),
            "education": _labels("c", "education", m["edu"][idx]),
            "join_date": _with_nulls("c", m["join"][idx], np.ones(len(idx), bool), pl.Date),
            "full_member_date": _with_nulls("c", m["full"][idx], full, pl.Date),
            "member_status": pl.Series(statuses),
            "org_code": pl.Series(self.org_codes(m["org"][idx])),
            # a 否 is written for a tenth of the others; the rest stay empty (= 否)
            "is_floating": _bools("c", floating, floating | (m["float_u"][idx] > 0.9)),
            "floating_managed_by": _with_nulls("c", managers, managed, pl.String),
            "cadre_type": _labels("c", "cadre_type", m["cadre"][idx]),
            "occupation": _labels("c", "occupation", m["occ"][idx]),
        }

    def admissions(self) -> dict[str, pl.Series]:
        u, t = self.u, self.t
        m = u.members
        idx = np.flatnonzero(m["admitted"] & (m["enter_t"] == t))
        ones = np.ones(len(idx), bool)
        cols = {
            "national_id": pl.Series(u.national_ids[idx], dtype=pl.String),
            "admission_date": _with_nulls("c", m["join"][idx], ones, pl.Date),
            "application_date": _with_nulls("c", m["application"][idx], ones, pl.Date),
            "activist_date": _with_nulls("c", m["activist"][idx], ones, pl.Date),
        }
        for key in ("recommended", "prereviewed", "publicized", "ballot"):
            cols[key] = _bools("c", m[key][idx] == 1, m[key][idx] >= 0)
        return cols

    def events(self) -> Events:
        return period_events(self.u, self.t, self.reporting, self.orgs, self.org_type, self.members)


def _concat(parts: list[dict[str, pl.Series]], sheet: spec.Sheet) -> pl.DataFrame:
    frames = []
    for cols in parts:
        n = len(next(iter(cols.values()))) if cols else 0
        frames.append(_frame(sheet, cols, n))
    return pl.concat(frames, how="vertical") if frames else _frame(sheet, {}, 0)


def build_submission(reporter: str, t: int, universes: dict[str, Universe]) -> Submission:
    """The submission of `reporter` for period t, from the universes of its sources."""
    parts = [
        _Part(universes[ru.code], reporter, slot, t)
        for slot, ru in enumerate(sources_of(reporter))
        if reporter_at(ru.code, t) == reporter
    ]
    period = period_label(t)
    tables = {
        spec.UNITS.alias: _concat([p.units() for p in parts], spec.UNITS),
        spec.ORGANIZATIONS.alias: _concat([p.organizations() for p in parts], spec.ORGANIZATIONS),
        spec.MEMBERS.alias: _concat([p.member_table() for p in parts], spec.MEMBERS),
        spec.ADMISSIONS.alias: _concat([p.admissions() for p in parts], spec.ADMISSIONS),
    }
    activity_parts, training_parts = [], []
    offset = 0
    acts = np.array(code_list("activity_type"))
    for p in parts:
        ev = p.events()
        n = len(ev.org)
        ids = np.char.add(f"{reporter}-{period}-A", np.char.zfill((offset + np.arange(n)).astype(str), 6))
        activity_parts.append(
            {
                "activity_id": pl.Series(ids, dtype=pl.String),
                "org_code": pl.Series(p.org_codes(ev.org), dtype=pl.String),
                "activity_type": pl.Series(acts[ev.act], dtype=pl.String),
                "topic": pl.Series(ev.topic.tolist(), dtype=pl.String),
                "organizer": pl.Series(ev.organizer.tolist(), dtype=pl.String),
                "start_date": _with_nulls("c", ev.start, np.ones(n, bool), pl.Date),
                "end_date": _with_nulls("c", ev.end, np.ones(n, bool), pl.Date),
                "participants": pl.Series(ev.participants.astype(np.int64)),
            }
        )
        training_parts.append(
            {
                "activity_id": pl.Series(ids[ev.train_activity], dtype=pl.String),
                "national_id": pl.Series(p.u.national_ids[ev.train_member], dtype=pl.String),
                "days": pl.Series(ev.train_days.astype(np.float64)),
            }
        )
        offset += n
    tables[spec.ACTIVITIES.alias] = _concat(activity_parts, spec.ACTIVITIES)
    tables[spec.TRAINING.alias] = _concat(training_parts, spec.TRAINING)
    _, p_end = period_bounds(t)
    rng = np.random.default_rng([universes[reporter].seed, 30_000, t, universes[reporter].source_index])
    return Submission(
        district=reporter,
        period=period,
        submitted=p_end + int(rng.integers(5, 25)),
        submitted_by=str(person_names(rng, 1)[0]),
        tables=tables,
    )
