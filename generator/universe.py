"""The simulated world of one source: its host units, party organizations and members over time.

A source is a reporting unit of reporting_units.csv. Its universe is built once, period by
period from its first reporting period to the horizon, and every entity carries the period it
appears in (`from_t`, members also `exit_t`) and the latent draws that decide how it changes
(a village gets its venue in the first period whose share exceeds its latent draw, and so on).
A snapshot at period t is then a filter plus a few vectorized expressions (see `snapshot.py`).

Each period's draws come from their own random stream (seed, source, period), so a period's
content does not depend on how many periods follow it. Units and members of a source that stops
reporting (塘沽/汉沽/大港 after 2009H2) keep evolving; the successor reports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from warehouse.reference import ReportingUnit
from warehouse.reference import code_values as code_list

from . import profiles as P
from ._units import reporting_units
from .periods import NEVER, day, period_bounds, period_index

FLOOR = 3  # a unit type the profile has gets at least this many units, whatever the scale

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))
_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)

YEARS = 40  # yearly knobs are drawn for this many years from 2006, whatever the horizon

# Member kinds.
STOCK, TRANSFER, ADMISSION = 0, 1, 2


def ix(code_list_name: str, label: str) -> int:
    """Index of `label` in a seed code list (the integer codes the generator works with)."""
    return code_list(code_list_name).index(label)


def shares(horizon: int, v0: float, v1: float, t1: int, slope_after: float = 0.0) -> np.ndarray:
    """A share per period: linear from v0 (2006H1) to v1 (period t1), then + slope_after a period."""
    t = np.arange(horizon, dtype=np.float64)
    s = np.where(t <= t1, v0 + (v1 - v0) * t / max(t1, 1), v1 + slope_after * (t - t1))
    return np.clip(s, 0.0, 1.0)


def first_period(latent: np.ndarray, share: np.ndarray, from_t: np.ndarray | int) -> np.ndarray:
    """The first period at or after from_t whose share exceeds the latent draw (NEVER if none).

    `share` must not decrease, so the state, once reached, stays.
    """
    t = np.searchsorted(share, latent, side="right").astype(np.int64)
    t[t >= len(share)] = NEVER
    return np.maximum(t, from_t)


def _days_in_period(rng: np.random.Generator, t: int, n: int) -> np.ndarray:
    start, end = period_bounds(t)
    return start + rng.integers(0, end - start + 1, n)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    sw = np.array(P.SURNAME_WEIGHTS) / sum(P.SURNAME_WEIGHTS)
    surnames = np.array(list(P.SURNAMES))[rng.choice(len(P.SURNAMES), n, p=sw)]
    chars = np.array(list(P.GIVEN_CHARS))
    given = chars[rng.integers(0, len(chars), n)]
    two = rng.random(n) < 0.7
    given = np.where(two, np.char.add(given, chars[rng.integers(0, len(chars), n)]), given)
    return np.char.add(surnames, given)


def place_names(rng: np.random.Generator, n: int, length: int = 2) -> np.ndarray:
    chars = np.array(list(P.PLACE_CHARS))
    out = chars[rng.integers(0, len(chars), n)]
    for _ in range(length - 1):
        out = np.char.add(out, chars[rng.integers(0, len(chars), n)])
    return out


def _pick(rng: np.random.Generator, weights: dict[str, float], labels: tuple[str, ...], n: int) -> np.ndarray:
    """n indexes into `labels` drawn with `weights` (keyed by label)."""
    unknown = set(weights) - set(labels)
    if unknown:
        raise ValueError(f"weights for codes not in the seed code list: {sorted(unknown)}")
    w = np.array([weights.get(label, 0.0) for label in labels], dtype=np.float64)
    return rng.choice(len(labels), n, p=w / w.sum()).astype(np.int16)


def _pick_by_group(
    rng: np.random.Generator, group: np.ndarray, tables: list[dict[str, float]], labels: tuple[str, ...]
) -> np.ndarray:
    """Per row, an index into `labels` drawn with the weight table of the row's group."""
    cum = np.array([[t.get(label, 0.0) for label in labels] for t in tables], dtype=np.float64)
    cum = np.cumsum(cum / cum.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    return np.minimum((u[:, None] >= cum[group]).sum(axis=1), len(labels) - 1).astype(np.int16)


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for every count c, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _ymd(days: np.ndarray) -> np.ndarray:
    """YYYYMMDD as integers."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    dom = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return year * 10000 + month * 100 + dom


def id_strings(first17: np.ndarray) -> np.ndarray:
    """The 18-character GB 11643 numbers for these 17-digit bodies."""
    digits = (first17[:, None] // _POW10) % 10
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    return np.char.add(first17.astype("U17"), check)


@dataclass
class Anchors:
    """Organizations other units hang under."""

    committee: int = 0
    organs: int = 0  # 机关工委 (districts) or the committee (systems)
    npe: int = 0  # the 两新 working committees
    social: int = 0
    streets: np.ndarray | None = None
    townships: np.ndarray | None = None
    communities: np.ndarray | None = None  # community organizations


_UNIT_DEFAULTS: dict[str, tuple[object, str]] = {
    "type": (0, "int16"),
    "name": ("", "object"),
    "from_t": (0, "int64"),
    "cov_org": (-1, "int64"),
    "cov_t": (NEVER, "int64"),
    "emp": (-1, "int64"),
    "emp_growth": (0.0, "float64"),
    "mc": (-1, "int64"),
    "mc_t": (NEVER, "int64"),
    "high_tech": (-1, "int8"),
    "good_t": (NEVER, "int64"),
    "rating_other": (-1, "int16"),
    "board": (-1, "int64"),
    "cross_base": (np.nan, "float64"),
    "status": (-1, "int16"),
    "venue_t": (NEVER, "int64"),
    "demo_t": (NEVER, "int64"),
    "instr_t": (NEVER, "int64"),
    "built": (-1, "int64"),
    "blank": (0.0, "float64"),  # latent: below BLANK_SHARE, a 否 is written as an empty cell
}
_ORG_DEFAULTS: dict[str, tuple[object, str]] = {
    "type": (0, "int16"),
    "up_type": (-1, "int16"),
    "up_t": (NEVER, "int64"),
    "parent": (-1, "int64"),
    "from_t": (0, "int64"),
    "est": (0, "int64"),
    "base": ("", "object"),
    "secretary": ("", "object"),
    "weight": (0.0, "float64"),
    "cat": (0, "int8"),
    "unit": (-1, "int64"),
    "role": (0, "int8"),
}
BLANK_SHARE = 0.25
FLAGSHIP_DEMO = 0.35  # a source's first community: its chance to be a demonstration site by 2010

# Organization roles.
ROLE_NONE, ROLE_COMMITTEE, ROLE_TOWNSHIP, ROLE_EVALUATED = 0, 1, 2, 3


class _Table:
    """Columns as numpy arrays, grown batch by batch."""

    def __init__(self, defaults: dict[str, tuple[object, str]]) -> None:
        self.defaults = defaults
        self.cols: dict[str, np.ndarray] = {k: np.empty(0, dtype=dt) for k, (_, dt) in defaults.items()}

    def __len__(self) -> int:
        return len(self.cols["from_t"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]

    def add(self, n: int, **values: object) -> np.ndarray:
        first = len(self)
        for k, (default, dt) in self.defaults.items():
            v = values.pop(k, default)
            arr = np.empty(n, dtype=dt)
            arr[:] = v
            self.cols[k] = np.concatenate([self.cols[k], arr])
        if values:
            raise KeyError(f"unknown columns {sorted(values)}")
        return np.arange(first, first + n)

    def set(self, key: str, idx: np.ndarray, values: object) -> None:
        self.cols[key][idx] = values


def _grow(pool: np.ndarray | None, more: np.ndarray) -> np.ndarray:
    return more if pool is None else np.concatenate([pool, more])


def _second_smallest(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the second smallest value (NEVER for a group of one).

    A 联合党支部 is formed when its second unit is ready to join: one unit alone is not a joint
    branch (the quality checks warn on a joint branch covering fewer than two units).
    """
    order = np.lexsort((values, group))
    starts = np.searchsorted(group[order], np.arange(n_groups))
    sizes = np.bincount(group, minlength=n_groups)
    second = np.minimum(starts + 1, len(order) - 1)
    return np.where(sizes >= 2, values[order][second], NEVER).astype(np.int64)


class _NewUnits:
    """A batch of new host units of one type: the draws and helpers every type shares."""

    def __init__(self, u: Universe, unit_type: str, n: int, rng: np.random.Generator, t: int) -> None:
        self.u, self.unit_type, self.n, self.rng, self.t = u, unit_type, n, rng, t
        self.cat = P.CATEGORY_OF_UNIT[unit_type]
        self.blank = rng.random(n)
        self.rating_other = _pick(rng, P.RATING_OTHER, code_list("rating"), n)
        self.rating_other[rng.random(n) < 0.1] = -1
        self.ids = np.empty(0, dtype=np.int64)

    def words(self, options: tuple[str, ...]) -> np.ndarray:
        return np.array(options)[self.rng.integers(0, len(options), self.n)]

    def sizes(self) -> np.ndarray:
        return self.u._sizes(self.rng, self.unit_type, self.n)

    def add(self, names: np.ndarray, **columns: object) -> np.ndarray:
        columns.setdefault("rating_other", self.rating_other)
        self.ids = self.u.units.add(
            self.n,
            type=ix("unit_type", self.unit_type),
            name=names.astype(object),
            from_t=self.t,
            blank=self.blank,
            **columns,
        )
        return self.ids

    def covered_by_own(
        self,
        ids: np.ndarray,
        org_type: str | np.ndarray,
        parent: np.ndarray | int,
        base: np.ndarray,
        sizes: np.ndarray,
        cov_t: np.ndarray | int | None = None,
        role: int = ROLE_NONE,
    ) -> np.ndarray:
        """One organization per unit (from cov_t, default now), covering it."""
        u = self.u
        cov = np.broadcast_to(np.asarray(self.t if cov_t is None else cov_t, dtype=np.int64), (self.n,))
        orgs = u._add_orgs(
            self.rng, org_type, parent, cov, base.astype(object), sizes, self.cat, ids, n=self.n, role=role
        )
        u.units.set("cov_org", ids, orgs)
        u.units.set("cov_t", ids, u.orgs["from_t"][orgs])
        return orgs


class Universe:
    """Everything one source ever has up to (not including) period `horizon`."""

    def __init__(self, ru: ReportingUnit, horizon: int, scale: float, seed: int) -> None:
        units = reporting_units()
        self.ru = ru
        self.source_index = [u.code for u in units].index(ru.code)
        self.start = period_index(str(ru.reports_from))
        self.horizon = horizon
        self.scale = scale
        self.seed = seed
        self.is_system = ru.kind == "system"
        self.short_name = ru.name.removesuffix("党委")
        self.is_successor_only = any(u.successor_code == ru.code for u in units)
        self.units = _Table(_UNIT_DEFAULTS)
        self.orgs = _Table(_ORG_DEFAULTS)
        self.members: dict[str, np.ndarray] = {}
        self._member_batches: list[dict[str, np.ndarray]] = []
        self._issued: set[int] = set()
        self._id_setup(units)
        self._profile_setup()
        self.anchors = Anchors()
        for t in range(self.start, horizon):
            self._batch(t)
        self.members = {
            k: np.concatenate([b[k] for b in self._member_batches]) for k in self._member_batches[0]
        }
        self._member_batches = []
        self.national_ids = id_strings(self.members["id17"])

    # ---- setup -------------------------------------------------------------------------

    def rng(self, t: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.source_index, t, stream])

    def _id_setup(self, units: tuple[ReportingUnit, ...]) -> None:
        """Area codes and a share of the 3-digit sequence space, so sources never collide."""
        tianjin = [u.code for u in units if u.kind != "system" and u.code.isdigit()]
        systems = [u.code for u in units if u.kind == "system"]
        if self.is_system:
            width = 300 // max(len(systems), 1) // 2 * 2
            self.seq_lo = 700 + width * systems.index(self.ru.code)
            self.seq_width = width
            self.area_codes = np.array([int(c) for c in tianjin if c != "120116"], dtype=np.int64)
        else:
            self.seq_lo, self.seq_width = 0, 700
            self.area_codes = np.array([int(self.ru.code)], dtype=np.int64)

    def _profile_setup(self) -> None:
        ru = self.ru
        if self.is_system:
            profile = dict(P.SYSTEM_PROFILES.get(ru.code, {P.ORGAN: 50, P.INSTITUTION: 50}))
        elif self.is_successor_only:
            profile = dict(P.SUCCESSOR_PROFILE)
        else:
            factor = P.DISTRICT_FACTOR.get(ru.code, 1.0)
            profile = {k: v * factor for k, v in P.AREA_PROFILES[ru.area_group].items()}
            profile[P.VILLAGE] = P.VILLAGES.get(ru.code, 0)
        self.profile = {k: v for k, v in profile.items() if v > 0}
        self.committee_type = P.COMMITTEE_SYSTEM if self.is_system else P.COMMITTEE_DISTRICT
        self.members_target = P.MEMBERS.get(ru.code, 20_000)
        # Relative unit sizes become members: norm makes the sizes of a full-scale profile add
        # up to the source's members.
        expected = P.SIZE[self.committee_type] + sum(n * self._mean_size(k) for k, n in self.profile.items())
        self.norm = self.members_target / expected
        # At small scales the floors give more units than the members fill: members per unit of
        # size, used to size the branch structure to the members it will really hold.
        stock = P.SIZE[self.committee_type] + sum(
            self._count(k, n, None, self.start) * self._mean_size(k) for k, n in self.profile.items()
        )
        self.member_scale = self.members_target * self.scale / (stock * self.norm)
        total = sum(m * (3.0 if code == "XT02" else 1.0) for code, m in P.MEMBERS.items())
        factor = 3.0 if ru.code == "XT02" else 1.0
        self.admissions_per_period = (
            P.ADMISSIONS_PER_HALF_YEAR * self.members_target * factor / total * self.scale
        )
        r = np.random.default_rng([self.seed, self.source_index, 10_000])
        h = self.horizon
        full_or = lambda lo, hi: 1.0 if r.random() < 0.6 else r.uniform(lo, hi)  # noqa: E731
        self.s_venue = shares(h, 0.55, full_or(0.75, 0.95), 3, 0.01)  # laggards stay below 100%
        self.s_new_compound = shares(h, 0.3, full_or(0.9, 0.98), 3, 0.01)
        self.s_old_compound = shares(h, 0.5, 0.65, 9)
        self.s_upgrade = shares(h, 0.45, 1.0 if r.random() < 0.7 else r.uniform(0.9, 0.98), 5, 0.005)
        self.demo_share = r.uniform(0.035, 0.075)  # about 50 demonstration sites city-wide by 2010
        self.s_demo = shares(h, 0.01, self.demo_share, 9)
        self.s_own = shares(h, 0.8, r.uniform(0.93, 0.99), 9)
        self.s_joint = shares(h, 0.45, r.uniform(0.85, 0.97), 9)
        self.s_instr = shares(h, 0.6, r.uniform(0.9, 0.99), 9)
        self.s_member = shares(h, 0.15, r.uniform(0.6, 0.8), 9)
        self.s_soe_good = shares(h, 0.55, r.uniform(0.75, 0.9), 9)
        self.s_township_good = shares(h, 0.5, r.uniform(0.72, 0.9), 9)
        self.s_village_good = shares(h, 0.3, r.uniform(0.5, 0.7), 9)
        self.admission_female = r.uniform(0.32, 0.44)
        self.s_managed = shares(h, 0.78, 0.93, 9)
        r.uniform(0.6, 0.8)  # was the final ballot share (kept so the draws after it stay the same)
        self.s_process = shares(h, 0.85, 0.97, 9)
        self._yearly_setup()

    def _yearly_setup(self) -> None:
        """Yearly knobs, from their own streams (fixed lengths, so the horizon changes nothing).

        The cross-appointment and ballot shares rise in most years but not all: each year's step
        is a city-wide step (one year of 2007-2010 falls everywhere, later a fifth of the years)
        plus the source's own noise.
        """
        years = YEARS
        city = np.random.default_rng([self.seed, 10_002])
        r = np.random.default_rng([self.seed, self.source_index, 10_001])

        def city_steps(up: float, down: float) -> np.ndarray:
            steps = np.where(city.random(years) < 0.8, up, down)
            steps[1:5] = up
            steps[city.integers(1, 5)] = down
            return steps

        city_cross, city_ballot = city_steps(0.045, -0.03), city_steps(0.12, -0.05)
        cross_step = city_cross + r.normal(0.0, 0.035, years)
        ballot_step = city_ballot + r.normal(0.0, 0.05, years)
        cross_step[0] = ballot_step[0] = 0.0
        self.cross_offset = np.cumsum(cross_step)  # added to each SOE's own share, by year
        ballot = np.clip(0.2 + np.cumsum(ballot_step), 0.05, 0.95)
        self.s_ballot = np.repeat(ballot, 2)[: self.horizon]  # by period
        # A share of the sources runs a flawless admission process from some year on (dev_process).
        self.process_flawless_from = int(r.integers(2, 5)) if r.random() < 0.35 else NEVER  # a year index
        # The yearly 10-day courses of the reporting committee for the township and village cadres
        # (rural_training_*): each held in a year with the source's own probability.
        self.course_share = r.uniform(0.45, 0.95)

    def _mean_size(self, unit_type: str) -> float:
        if unit_type == P.NPE:
            return 1.5
        if unit_type == P.SOCIAL:
            return 1.0
        size = P.SIZE[unit_type]
        if self.is_system and unit_type in P.SOES:
            size *= P.SYSTEM_SOE_SIZE
        return size

    def _count(self, unit_type: str, base: float, rng: np.random.Generator | None, t: int) -> int:
        if t == self.start:
            n = round(base * self.scale)
            return max(n, min(FLOOR, math.ceil(base)))
        rate = P.GROWTH.get(unit_type, 0.0)
        return int(rng.poisson(base * self.scale * rate)) if rate and rng is not None else 0

    # ---- one period --------------------------------------------------------------------

    def _batch(self, t: int) -> None:
        rng = self.rng(t, 1)
        if t == self.start:
            self._committee(rng, t)
        order = (
            P.ORGAN,
            P.STREET,
            P.TOWNSHIP,
            P.COMMUNITY,
            P.VILLAGE,
            P.COMPOUND,
            P.SOE_WHOLLY,
            P.SOE_HOLDING,
            P.NPE,
            P.SOCIAL,
            P.UNIVERSITY,
            P.HOSPITAL,
            P.RESEARCH,
            P.INSTITUTION,
        )
        for unit_type in order:
            if unit_type not in self.profile:
                continue
            n = self._count(unit_type, self.profile[unit_type], rng, t)
            if n:
                self._add_units(unit_type, n, rng, t)
        self._add_period_members(self.rng(t, 2), t)

    def _est_dates(self, rng: np.random.Generator, from_t: np.ndarray) -> np.ndarray:
        """Established dates: historical for the first period's stock, else inside from_t."""
        first_start, _ = period_bounds(self.start)
        # a successor (滨海新区) was founded shortly before it first reports
        earliest = period_bounds(self.start - 1)[0] if self.is_successor_only else day(1978)
        historic = earliest + rng.integers(0, first_start - earliest, len(from_t))
        later = np.clip(from_t, 0, self.horizon)
        starts = np.array([period_bounds(int(t))[0] for t in range(self.horizon + 1)])
        ends = np.array([period_bounds(int(t))[1] for t in range(self.horizon + 1)])
        inside = starts[later] + (rng.random(len(from_t)) * (ends[later] - starts[later] + 1)).astype(
            np.int64
        )
        return np.where(from_t <= self.start, historic, inside)

    def _add_orgs(
        self,
        rng: np.random.Generator,
        org_type: str | np.ndarray,
        parent: np.ndarray | int,
        from_t: np.ndarray | int,
        base: np.ndarray | str,
        weight: np.ndarray | float,
        cat: str | np.ndarray,
        unit: np.ndarray | int = -1,
        n: int | None = None,
        **extra: object,
    ) -> np.ndarray:
        if n is None:
            n = len(np.atleast_1d(base)) if not isinstance(base, str) else 1
        from_arr = np.broadcast_to(np.asarray(from_t, dtype=np.int64), (n,)).copy()
        parent_arr = np.broadcast_to(np.asarray(parent, dtype=np.int64), (n,)).copy()
        est = self._est_dates(rng, from_arr)
        has_parent = parent_arr >= 0
        if has_parent.any():
            est[has_parent] = np.maximum(est[has_parent], self.orgs["est"][parent_arr[has_parent]])
            from_arr[has_parent] = np.maximum(
                from_arr[has_parent], self.orgs["from_t"][parent_arr[has_parent]]
            )
        type_idx = (
            ix("org_type", org_type) if isinstance(org_type, str) else np.asarray(org_type, dtype=np.int16)
        )
        cat_idx = P.CATEGORIES.index(cat) if isinstance(cat, str) else cat
        return self.orgs.add(
            n,
            type=type_idx,
            parent=parent_arr,
            from_t=from_arr,
            est=est,
            base=base,
            secretary=person_names(rng, n).astype(object),
            weight=weight,
            cat=cat_idx,
            unit=unit,
            **extra,
        )

    def _committee(self, rng: np.random.Generator, t: int) -> None:
        ru = self.ru
        short = self.short_name
        org = self._add_orgs(
            rng,
            "党委",
            -1,
            t,
            short,
            P.SIZE[self.committee_type] * self.norm,
            "organ",
            role=ROLE_COMMITTEE,
        )
        unit = self.units.add(
            1, type=ix("unit_type", self.committee_type), name=ru.name, from_t=t, cov_org=org, cov_t=t
        )
        self.orgs.set("unit", org, unit)
        a = self.anchors
        a.committee = a.organs = a.npe = a.social = int(org[0])
        if not self.is_system and P.ORGAN in self.profile:
            a.organs = int(
                self._add_orgs(rng, "党工委", a.committee, t, f"{short}机关", 10 * self.norm, "organ")[0]
            )
        if P.NPE in self.profile:
            a.npe = int(
                self._add_orgs(
                    rng, "党工委", a.committee, t, f"{short}非公有制经济组织", 10 * self.norm, "organ"
                )[0]
            )
        if P.SOCIAL in self.profile:
            a.social = int(
                self._add_orgs(rng, "党工委", a.committee, t, f"{short}社会组织", 5 * self.norm, "organ")[0]
            )

    def _sizes(self, rng: np.random.Generator, unit_type: str, n: int) -> np.ndarray:
        return self._mean_size(unit_type) * self.norm * rng.lognormal(0.0, 0.5, n)

    def _with_branches(
        self,
        rng: np.random.Generator,
        tops: np.ndarray,
        sizes: np.ndarray,
        units: np.ndarray,
        cat: str,
    ) -> None:
        """Branches under big units' top organizations (via 党总支 when there are many)."""
        k = np.floor(sizes * self.member_scale / P.MEMBERS_PER_BRANCH).astype(np.int64)
        k[k < 2] = 0
        has = k > 0
        if not has.any():
            return
        # the top keeps a tenth of the members (its office), the branches the rest
        self.orgs.set("weight", tops[has], sizes[has] * 0.1)
        tops, sizes, units, k = tops[has], sizes[has], units[has], k[has]
        mids_per = np.where(k > 8, np.ceil(k / 6).astype(np.int64), 0)
        mid_parent = np.repeat(tops, mids_per)
        mid_ids = np.empty(0, dtype=np.int64)
        if len(mid_parent):
            mid_no = _ranks(mids_per) + 1
            mid_ids = self._add_orgs(
                rng,
                "党总支",
                mid_parent,
                self.orgs["from_t"][mid_parent],
                np.char.add(
                    np.char.add(self.orgs["base"][mid_parent].astype(str), "第"), mid_no.astype(str)
                ).astype(object),
                np.repeat(sizes * 0.02, mids_per),
                cat,
                np.repeat(units, mids_per),
            )
        mid_start = np.concatenate([[0], np.cumsum(mids_per)[:-1]])
        owner = np.repeat(np.arange(len(tops)), k)
        branch_no = _ranks(k)
        parent = tops[owner].copy()
        via_mid = mids_per[owner] > 0
        parent[via_mid] = mid_ids[mid_start[owner[via_mid]] + branch_no[via_mid] % mids_per[owner[via_mid]]]
        base = np.char.add(
            np.char.add(self.orgs["base"][tops[owner]].astype(str), "第"), (branch_no + 1).astype(str)
        ).astype(object)
        self._add_orgs(
            rng,
            "党支部",
            parent,
            self.orgs["from_t"][parent],
            base,
            (sizes * 0.9 / k)[owner],
            cat,
            units[owner],
        )

    def _top_type(self, sizes: np.ndarray) -> np.ndarray:
        big, mid, small = ix("org_type", "党委"), ix("org_type", "党总支"), ix("org_type", "党支部")
        return np.where(sizes >= 150, big, np.where(sizes >= 60, mid, small)).astype(np.int16)

    def _add_units(self, unit_type: str, n: int, rng: np.random.Generator, t: int) -> None:
        handlers = {
            P.ORGAN: self._organs,
            P.STREET: self._streets,
            P.TOWNSHIP: self._townships,
            P.COMMUNITY: self._communities,
            P.VILLAGE: self._villages,
            P.COMPOUND: self._compounds,
            P.SOE_WHOLLY: self._soes,
            P.SOE_HOLDING: self._soes,
            P.NPE: self._two_new,
            P.SOCIAL: self._two_new,
            P.UNIVERSITY: self._institutions,
            P.HOSPITAL: self._institutions,
            P.RESEARCH: self._institutions,
            P.INSTITUTION: self._institutions,
        }
        handlers[unit_type](_NewUnits(self, unit_type, n, rng, t))

    def _organs(self, new: _NewUnits) -> None:
        prefix = "市" if self.is_system else self.short_name
        names = np.char.add(prefix, new.words(P.BUREAUS))
        sizes = new.sizes()
        tops = new.covered_by_own(new.add(names), self._top_type(sizes), self.anchors.organs, names, sizes)
        self._with_branches(new.rng, tops, sizes, new.ids, new.cat)

    def _streets(self, new: _NewUnits) -> None:
        names = np.char.add(place_names(new.rng, new.n), "街道")
        orgs = new.covered_by_own(new.add(names), "党工委", self.anchors.committee, names, new.sizes())
        self.anchors.streets = _grow(self.anchors.streets, orgs)

    def _townships(self, new: _NewUnits) -> None:
        rng, n, t = new.rng, new.n, new.t
        names = np.char.add(place_names(rng, n), "镇")
        ids = new.add(names, good_t=first_period(rng.random(n), self.s_township_good, t))
        sizes = new.sizes()
        tops = new.covered_by_own(ids, "党委", self.anchors.committee, names, sizes, role=ROLE_TOWNSHIP)
        self._with_branches(rng, tops, sizes, ids, new.cat)
        self.anchors.townships = _grow(self.anchors.townships, tops)

    def _communities(self, new: _NewUnits) -> None:
        """Community branches, upgraded to 党总支 or 党委 over time (community_committee)."""
        rng, n, t = new.rng, new.n, new.t
        names = np.char.add(place_names(rng, n), "社区")
        latent = rng.random(n)
        if t == self.start:
            # a flagship community becomes a demonstration site by 2010 with probability FLAGSHIP_DEMO
            latent[0] *= self.demo_share / FLAGSHIP_DEMO
        ids = new.add(names, demo_t=first_period(latent, self.s_demo, t))
        parent = self._choose(rng, self.anchors.streets, n, self.anchors.committee)
        orgs = new.covered_by_own(ids, "党支部", parent, names, new.sizes())
        self.orgs.set("up_t", orgs, first_period(rng.random(n), self.s_upgrade, t))
        upgrade = np.where(rng.random(n) < 0.8, ix("org_type", "党总支"), ix("org_type", "党委"))
        self.orgs.set("up_type", orgs, upgrade)
        self.anchors.communities = _grow(self.anchors.communities, orgs)

    def _villages(self, new: _NewUnits) -> None:
        rng, n, t = new.rng, new.n, new.t
        names = np.char.add(place_names(rng, n), "村")
        ids = new.add(
            names,
            venue_t=first_period(rng.random(n), self.s_venue, t),
            good_t=first_period(rng.random(n), self.s_village_good, t),
            rating_other=_pick(rng, P.RATING_OTHER_VILLAGE, code_list("rating"), n),
        )
        parent = self._choose(rng, self.anchors.townships, n, -1)
        urban = parent < 0
        parent[urban] = self._choose(rng, self.anchors.streets, int(urban.sum()), self.anchors.committee)
        sizes = new.sizes()
        new.covered_by_own(ids, self._top_type(sizes), parent, names, sizes)

    def _compounds(self, new: _NewUnits) -> None:
        """Residential compounds: old ones (before 2006) and new ones (new_compound_org)."""
        rng, n, t = new.rng, new.n, new.t
        period_start, period_end = period_bounds(t)
        if t == self.start:
            old = rng.random(n) < 0.85
            old[-1] = False  # at least one new compound (new_compound_org), whatever the scale
            built = np.where(
                old,
                np.minimum(day(1980) + rng.integers(0, period_start - 365 - day(1980), n), day(2005, 12, 31)),
                np.maximum(
                    period_start - 180 + rng.integers(0, period_end - period_start + 181, n), day(2006)
                ),
            )
        else:
            built = _days_in_period(rng, t, n)
        is_new = built >= day(2006)
        names = np.char.add(place_names(rng, n), new.words(P.COMPOUND_SUFFIXES))
        ids = new.add(names, built=built)
        latent = rng.random(n)
        cov_t = np.where(
            is_new, first_period(latent, self.s_new_compound, t), first_period(latent, self.s_old_compound, t)
        )
        # every compound is covered by a branch of its own (the format: a unit's covering organization
        # is its own, or a 联合党支部 it shares), under its community's organization where it has one
        community = self._choose(rng, self.anchors.communities, n, -1)
        parent = np.where(
            community >= 0, community, self._choose(rng, self.anchors.streets, n, self.anchors.committee)
        )
        orgs = self._add_orgs(
            rng, "党支部", parent, cov_t, names.astype(object), new.sizes(), new.cat, ids, n=n
        )
        self.units.set("cov_org", ids, orgs)
        self.units.set("cov_t", ids, self.orgs["from_t"][orgs])

    def _soes(self, new: _NewUnits) -> None:
        rng, n, t = new.rng, new.n, new.t
        prefix, kind = ("天津市", "集团有限公司") if self.is_system else (self.short_name, "公司")
        names = np.char.add(
            np.char.add(np.char.add(prefix, place_names(rng, n)), new.words(P.SOE_WORDS)), kind
        )
        status = _pick(rng, P.SOE_STATUS, code_list("operating_status"), n)
        normal = ix("operating_status", "正常")
        if t == self.start and new.unit_type == P.SOE_HOLDING:
            # at least one distressed SOE (soe_distressed_org), whatever the scale
            soes = np.isin(self.units["type"], [ix("unit_type", k) for k in P.SOES])
            before = self.units["status"][soes]
            if not ((before >= 0) & (before != normal)).any() and not (status != normal).any():
                status[0] = ix("operating_status", "困难")
        board = rng.integers(5, 12, n)
        board[rng.random(n) < 0.08] = -1
        cross = rng.uniform(0.15, 0.45, n)
        cross[rng.random(n) < 0.05] = np.nan
        median = 800 if self.is_system else 150
        ids = new.add(
            names,
            emp=np.maximum(5, rng.lognormal(math.log(median), 0.9, n)).astype(np.int64),
            emp_growth=rng.normal(0.0, 0.02, n),
            status=status,
            high_tech=np.where(rng.random(n) < 0.1, 1, np.where(rng.random(n) < 0.5, 0, -1)),
            board=board,
            cross_base=cross,
            good_t=first_period(rng.random(n), self.s_soe_good, t),
            rating_other=_pick(rng, P.RATING_OTHER_SOE, code_list("rating"), n),
        )
        # a tenth of the distressed ones lost their organization (soe_distressed_org)
        distressed = status != normal
        cov_t = np.where(distressed & (rng.random(n) > 0.9), NEVER, t)
        sizes = new.sizes()
        org_type = np.where(self.is_system | (sizes >= 60), ix("org_type", "党委"), self._top_type(sizes))
        tops = new.covered_by_own(ids, org_type, self.anchors.committee, names, sizes, cov_t)
        self._with_branches(rng, tops, sizes, ids, new.cat)

    def _institutions(self, new: _NewUnits) -> None:
        """Universities, hospitals, research institutes and other public institutions."""
        unit_type = new.unit_type
        prefix = "天津" if unit_type == P.UNIVERSITY else "天津市"
        if unit_type == P.INSTITUTION and not self.is_system:
            prefix = self.short_name
        names = np.char.add(
            np.char.add(prefix, place_names(new.rng, new.n)), new.words(P.INSTITUTION_WORDS[unit_type])
        )
        ids = new.add(names)
        sizes = new.sizes()
        org_type = self._top_type(sizes)
        if unit_type == P.UNIVERSITY:
            org_type[:] = ix("org_type", "党委")
        tops = new.covered_by_own(ids, org_type, self.anchors.committee, names, sizes)
        if unit_type in P.EVALUATED_UNITS:
            committees = tops[self.orgs["type"][tops] == ix("org_type", "党委")]
            self.orgs.set("role", committees, ROLE_EVALUATED)
        self._with_branches(new.rng, tops, sizes, ids, new.cat)

    def _two_new(self, new: _NewUnits) -> None:
        """Non-public enterprises and social organizations (the 两新 targets).

        Three or more members: an own organization (most of them, rising); one or two, or none
        yet in a firm of 30+: a 联合党支部 shared by about four units; none: an instructor.
        """
        rng, n, t, unit_type = new.rng, new.n, new.t, new.unit_type
        high_tech_system = self.ru.code in P.SYSTEM_HIGH_TECH
        if unit_type == P.NPE:
            names = np.char.add(
                np.char.add(np.char.add("天津", place_names(rng, n)), new.words(P.FIRM_WORDS)), "有限公司"
            )
            median, sigma, rate = (60, 1.0, 0.10) if high_tech_system else (20, 1.1, 0.05)
            anchor = self.anchors.npe
            high_tech = (
                np.ones(n, dtype=np.int8) if high_tech_system else (rng.random(n) < 0.08).astype(np.int8)
            )
            high_tech[(rng.random(n) < 0.3) & (high_tech == 0)] = -1
            status = _pick(rng, P.NPE_STATUS, code_list("operating_status"), n)
            status[rng.random(n) < 0.03] = -1
        else:
            prefix = "天津市" if self.is_system else self.ru.name
            names = np.char.add(np.char.add(prefix, place_names(rng, n)), new.words(P.SOCIAL_WORDS))
            median, sigma, rate = 8, 0.9, 0.12
            anchor = self.anchors.social
            high_tech = np.full(n, -1, dtype=np.int8)
            status = np.full(n, -1, dtype=np.int16)
        emp = np.maximum(1, rng.lognormal(math.log(median), sigma, n)).astype(np.int64)
        mc0 = rng.poisson(emp * rate).astype(np.int64)
        if t == self.start and unit_type == P.NPE and n >= 2:
            # whatever the scale, a firm of 50+ with members and one of 30+ without (npe50_org,
            # twonew_org_coverage, npe30_member, twonew_instructor)
            emp[0], mc0[0] = max(emp[0], 60), max(mc0[0], 3)
            emp[1], mc0[1] = max(emp[1], 35), 0
        # a firm of 30+ without members gets its first member at mc_t (npe30_member)
        mc_t = np.where((mc0 == 0) & (emp >= 30), first_period(rng.random(n), self.s_member, t), NEVER)
        ids = new.add(
            names,
            emp=emp,
            emp_growth=rng.normal(0.01, 0.03, n),
            mc=mc0,
            mc_t=mc_t,
            high_tech=high_tech,
            status=status,
            instr_t=first_period(rng.random(n), self.s_instr, t),
        )
        own = np.flatnonzero(mc0 >= 3)
        if len(own):
            cov_t = first_period(rng.random(len(own)), self.s_own, t)
            org_type = np.where(
                mc0[own] >= 50,
                ix("org_type", "党委"),
                np.where(mc0[own] >= 15, ix("org_type", "党总支"), ix("org_type", "党支部")),
            )
            parent = np.where(
                rng.random(len(own)) < 0.7, anchor, self._choose(rng, self.anchors.streets, len(own), anchor)
            )
            orgs = self._add_orgs(
                rng,
                org_type,
                parent,
                cov_t,
                names[own].astype(object),
                mc0[own] * self.norm,
                "enterprise",
                ids[own],
            )
            self.units.set("cov_org", ids[own], orgs)
            self.units.set("cov_t", ids[own], self.orgs["from_t"][orgs])
        # (every 30+ firm without members, not only those whose member comes before the horizon:
        # the number of draws must not depend on the horizon)
        joint = np.flatnonzero(((mc0 >= 1) & (mc0 <= 2)) | ((mc0 == 0) & (emp >= 30)))
        if len(joint):
            latent_t = first_period(rng.random(len(joint)), self.s_joint, t)
            cov_t = np.maximum(latent_t, np.where(mc0[joint] == 0, mc_t[joint], t))
            group = np.arange(len(joint)) // 4
            if len(joint) > 4 and len(joint) % 4 == 1:
                group[-1] -= 1  # a lone firm left over joins the group before it
            n_groups = int(group[-1]) + 1
            g_from = _second_smallest(group, cov_t, n_groups)
            g_weight = np.bincount(group, weights=np.maximum(mc0[joint], 1) * self.norm)
            kind = "非公有制企业" if unit_type == P.NPE else "社会组织"
            numbers = (len(self.orgs) + np.arange(n_groups)).astype(str)
            base = np.char.add(f"{self.short_name}{kind}第", numbers).astype(object)
            orgs = self._add_orgs(rng, "联合党支部", anchor, g_from, base, g_weight, "enterprise", n=n_groups)
            self.units.set("cov_org", ids[joint], orgs[group])
            self.units.set("cov_t", ids[joint], np.maximum(cov_t, self.orgs["from_t"][orgs[group]]))

    @staticmethod
    def _choose(rng: np.random.Generator, pool: np.ndarray | None, n: int, fallback: int) -> np.ndarray:
        if pool is None or len(pool) == 0:
            return np.full(n, fallback, dtype=np.int64)
        return pool[rng.integers(0, len(pool), n)].astype(np.int64)

    # ---- members -----------------------------------------------------------------------

    def _add_period_members(self, rng: np.random.Generator, t: int) -> None:
        orgs = self.orgs
        present = np.flatnonzero(orgs["from_t"] <= t)
        weight = orgs["weight"][present]
        if weight.sum() <= 0:
            return
        p = weight / weight.sum()
        if t == self.start:
            n_stock = max(1, round(self.members_target * self.scale))
            self.per_weight = n_stock / weight.sum()
            self._members(rng, t, present[rng.choice(len(present), n_stock, p=p)], STOCK)
        else:
            new_orgs = np.flatnonzero(orgs["from_t"] == t)
            counts = rng.poisson(orgs["weight"][new_orgs] * self.per_weight * 0.8)
            transfers = [np.repeat(new_orgs, counts)]
            n_in = rng.poisson(self.members_target * self.scale * P.TRANSFER_IN_RATE)
            transfers.append(present[rng.choice(len(present), n_in, p=p)])
            self._members(rng, t, np.concatenate(transfers), TRANSFER)
        factor = np.array([P.ADMISSION_RATE_FACTOR.get(c, 1.0) for c in P.CATEGORIES])
        w_adm = weight * factor[orgs["cat"][present]]
        n_adm = rng.poisson(self.admissions_per_period)
        self._members(rng, t, present[rng.choice(len(present), n_adm, p=w_adm / w_adm.sum())], ADMISSION)

    def _members(self, rng: np.random.Generator, t: int, org: np.ndarray, kind: int) -> None:
        n = len(org)
        if n == 0:
            return
        cat = self.orgs["cat"][org].astype(np.int64)
        cats = P.CATEGORIES
        p_start, p_end = period_bounds(t)
        student = np.zeros(n, dtype=bool)
        univ = cat == cats.index("university")
        if kind == ADMISSION:
            adm = p_start + rng.integers(0, p_end - p_start + 1, n)
            young = rng.random(n) < P.ADMISSION_YOUNG_SHARE
            age = np.where(young, np.minimum(18 + rng.gamma(2.2, 3.2, n), 35.9), rng.uniform(36, 56, n))
            student = univ & (rng.random(n) < 0.9)
            age = np.where(student, rng.uniform(18.2, 24, n), age)
            birth = adm - (age * 365.25).astype(np.int64)
            birth = np.minimum(birth, adm - 6576)
            join = adm
            ref = adm
        else:
            ref = np.full(n, p_start, dtype=np.int64)
            params = np.array([P.AGE[c] for c in cats], dtype=np.float64)
            mean, sd, lo, hi = (params[cat, i] for i in range(4))
            age = np.clip(rng.normal(mean, sd), lo, hi)
            share = np.array([P.STUDENT_SHARE.get(c, 0.0) for c in cats])
            student = rng.random(n) < share[cat]
            age = np.where(student, rng.uniform(19, 25, n), age)
            birth = ref - (age * 365.25).astype(np.int64) - rng.integers(0, 365, n)  # no pile-up at the clips
            earliest = birth + 6577
            latest = p_start - 1
            join = earliest + ((latest - earliest) * rng.beta(1.3, 3.0, n)).astype(np.int64)
        delay = np.where(rng.random(n) < 0.08, rng.integers(90, 366, n), 0)
        full = join + 365 + delay
        female_base = np.array([P.FEMALE[c] for c in cats])
        if kind == ADMISSION:
            delta = np.array([P.ADMISSION_FEMALE_DELTA.get(c, 0.0) for c in cats])
            p_female = np.clip(self.admission_female + delta[cat], 0.05, 0.9)
        else:
            p_female = female_base[cat]
        female = rng.random(n) < p_female
        # education and occupation
        elderly = (ref - birth) > P.RETIREMENT_AGE * 365.25
        edu_labels = code_list("education")
        if kind == ADMISSION:
            tables = [P.ADMISSION_EDUCATION[c] for c in cats]
            edu = _pick_by_group(rng, cat, tables, edu_labels)
        else:
            tables = [P.EDUCATION[c] for c in cats] + [P.EDUCATION["elderly"]]
            edu = _pick_by_group(rng, np.where(elderly, len(cats), cat), tables, edu_labels)
        edu[student] = _pick(
            rng, {"研究生": 12, "大学本科": 83, "大学专科": 5}, edu_labels, int(student.sum())
        )
        occ_labels = code_list("occupation")
        occ = _pick_by_group(rng, cat, [P.OCCUPATION[c] for c in cats], occ_labels)
        retired = elderly & (rng.random(n) < 0.85)
        occ[retired] = occ_labels.index("离退休人员")
        occ[student] = occ_labels.index("学生")
        occ[(~student) & (occ == occ_labels.index("学生"))] = occ_labels.index("其他职业人员")
        occ[rng.random(n) < 0.02] = -1
        # cadres: village and township organizations
        cadre = np.full(n, -1, dtype=np.int8)
        cadre_share = 1.0 if kind != ADMISSION else 1 / 3
        village = (cat == cats.index("village")) & (rng.random(n) < P.VILLAGE_CADRE_SHARE * cadre_share)
        township = (cat == cats.index("township")) & (rng.random(n) < P.TOWNSHIP_CADRE_SHARE * cadre_share)
        cadre[village] = ix("cadre_type", "村干部")
        cadre[township] = ix("cadre_type", "乡镇干部")
        # lifetime
        leave = np.where((ref - birth) > 75 * 365.25, 0.05, P.LEAVE_RATE)
        exit_t = t + rng.geometric(leave)
        # national IDs
        ids17, birth = self._issue_ids(rng, birth, female)
        batch = {
            "id17": ids17,
            "name": person_names(rng, n),
            "female": female,
            "birth": birth,
            "edu": edu,
            "occ": occ,
            "join": join,
            "full": full,
            "org": org,
            "enter_t": np.full(n, t, dtype=np.int64),
            "exit_t": exit_t,
            "cadre": cadre,
            "float_u": rng.random(n),
            "float_rate": np.array([P.FLOATING[c] for c in cats])[cat],
            "managed_u": rng.random(n),
            "manager": rng.integers(0, len(P.FLOATING_MANAGERS), n),
            "admitted": np.full(n, kind == ADMISSION),
        }
        # the admission process (meaningful for admissions only)
        complete = rng.random(n) < self.s_process[t]
        flawless = t // 2 >= self.process_flawless_from
        if flawless:
            complete[:] = True
        # complete: a year and a day or more (activist_date + 1 year <= admission, leap years too)
        activist = join - np.where(complete, 366 + rng.integers(0, 400, n), rng.integers(60, 365, n))
        application = np.maximum(activist - rng.integers(90, 1100, n), birth + 5845)
        activist = np.maximum(activist, application)
        batch["application"] = application
        batch["activist"] = activist
        year_shares = {
            "recommended": shares(self.horizon, 0.85, 0.97, 9),
            "prereviewed": shares(self.horizon, 0.9, 0.98, 9),
            "publicized": shares(self.horizon, 0.92, 0.99, 9),
            "ballot": self.s_ballot,
        }
        for key, s in year_shares.items():
            value = (rng.random(n) < s[t - t % 2]).astype(np.int8)
            value[rng.random(n) < 0.03] = -1  # left empty (= 否)
            if flawless and key != "ballot":
                value[:] = 1
            batch[key] = value
        self._member_batches.append(batch)

    def _issue_ids(
        self, rng: np.random.Generator, birth: np.ndarray, female: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """17-digit bodies of new national IDs, never issued before in this source.

        Returns the bodies and the birth dates (a date whose sequence numbers run out moves a
        day earlier, which keeps every age rule).
        """
        n = len(birth)
        birth = birth.copy()
        area = self.area_codes[rng.integers(0, len(self.area_codes), n)]
        out = np.empty(n, dtype=np.int64)
        todo = np.arange(n)
        rounds = 0
        while len(todo):
            rounds += 1
            if rounds % 8 == 0:
                birth[todo] -= 1
            head = (
                area[todo] * 10**11
                + _ymd(birth[todo]) * 1000
                + self.seq_lo
                + (~female[todo]).astype(np.int64)
            )
            cand = head + 2 * rng.integers(0, self.seq_width // 2, len(todo))
            _, first = np.unique(cand, return_index=True)
            fresh = np.zeros(len(todo), dtype=bool)
            fresh[first] = True
            fresh &= np.fromiter((c not in self._issued for c in cand.tolist()), dtype=bool, count=len(cand))
            out[todo[fresh]] = cand[fresh]
            self._issued.update(cand[fresh].tolist())
            todo = todo[~fresh]
        return out, birth
