"""Events of one source in one period: activities (活动) and training attendance (培训).

Everything is in the source's local indexes (organization and member numbers); `snapshot.py`
turns them into codes and IDs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.reference import code_values as code_list

from . import profiles as P
from .periods import period_bounds
from .universe import ROLE_COMMITTEE, ROLE_EVALUATED, ROLE_TOWNSHIP, Universe, ix

ACTIVITY_SCALE = 1.0  # multiplies every rate in profiles.ACTIVITY_RATES
TOWNSHIP_TRAININGS = 0.4  # extra 集中培训 a township committee holds per half-year (cadre training)
COMMITTEE_TRAININGS = 2.0  # extra 集中培训 the reporting committee holds per half-year
COURSES = (("乡镇干部", "乡镇干部集中轮训"), ("村干部", "村干部集中轮训"))  # the yearly 10-day courses
COURSE_DAYS = (10, 12)  # a course's length, inclusive
COURSE_ATTENDANCE = 0.985  # share of the cadres who attend a course held in their source
_DURATION = {"集中培训": (1, 7), "检查评估": (1, 2), "民主评议": (1, 2)}


@dataclass
class Events:
    org: np.ndarray  # local organization index
    act: np.ndarray  # index into the activity_type code list
    topic: np.ndarray  # object: str or None
    organizer: np.ndarray  # object: str or None
    start: np.ndarray  # days
    end: np.ndarray
    participants: np.ndarray
    train_activity: np.ndarray  # row of the activity (index into the arrays above)
    train_member: np.ndarray  # local member index
    train_days: np.ndarray


def _rate_matrix() -> np.ndarray:
    org_types, act_types = code_list("org_type"), code_list("activity_type")
    rates = np.zeros((len(org_types), len(act_types)))
    for org_type, row in P.ACTIVITY_RATES.items():
        for act_type, rate in row.items():
            rates[org_types.index(org_type), act_types.index(act_type)] = rate * ACTIVITY_SCALE
    return rates


def _choice(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)]


def period_events(
    u: Universe,
    t: int,
    reporting: bool,
    orgs: np.ndarray,
    org_type: np.ndarray,
    members: np.ndarray,
) -> Events:
    """Activities and training of source `u` in period t.

    orgs: the local indexes of the organizations present (ascending; the committee first),
    org_type: their type at t, members: the local indexes of the members present.
    `reporting`: the source's committee is the reporting unit's committee in this period.
    """
    rng = u.rng(t, 3)
    acts = code_list("activity_type")
    a_meeting, a_training, a_inspection = (
        ix("activity_type", "党委会"),
        ix("activity_type", "集中培训"),
        ix("activity_type", "检查评估"),
    )
    n_orgs, n_acts = len(orgs), len(acts)
    role = u.orgs["role"][orgs]
    rates = _rate_matrix()[org_type]
    rates[role == ROLE_TOWNSHIP, a_training] += TOWNSHIP_TRAININGS
    committee_pos = int(np.flatnonzero(role == ROLE_COMMITTEE)[0])
    if reporting:
        rates[committee_pos, a_meeting] = 0.0
        rates[committee_pos, a_training] += COMMITTEE_TRAININGS
    counts = rng.poisson(rates).ravel()
    cell = np.repeat(np.arange(n_orgs * n_acts), counts)
    pos, act = cell // n_acts, (cell % n_acts).astype(np.int64)
    topic = np.empty(len(pos), dtype=object)
    for a, label in enumerate(acts):
        rows = np.flatnonzero(act == a)
        topic[rows] = _choice(rng, P.TOPICS.get(label, ("",)), len(rows))
    meetings = np.flatnonzero(act == a_meeting)
    decoys = meetings[rng.random(len(meetings)) < 0.08]  # other committees on the project
    topic[decoys] = _choice(rng, P.PROJECT_TOPICS, len(decoys))
    topic[(act != a_meeting) & (rng.random(len(pos)) < 0.1)] = None
    organizer = np.full(len(pos), None, dtype=object)
    own_department = f"{u.ru.name}组织部" if u.is_system else f"{u.ru.name}委组织部"
    trainings = np.flatnonzero(act == a_training)
    organizer[trainings] = np.where(
        rng.random(len(trainings)) < 0.1, P.CITY_ORGANIZATION_DEPARTMENT, own_department
    )
    organizer[act == a_inspection] = "上级党委"

    extra_pos: list[int] = []
    extra_act: list[int] = []
    extra_topic: list[str] = []
    extra_organizer: list[str | None] = []
    extra_course: list[int] = []

    def extra(p: int, a: int, topic_: str, organizer_: str | None = None, course_: int = -1) -> None:
        extra_pos.append(p)
        extra_act.append(a)
        extra_topic.append(topic_)
        extra_organizer.append(organizer_)
        extra_course.append(course_)

    if reporting:
        # the half-yearly 党委会 on the project: held in most (unit, period), planted misses else
        mode = rng.random()
        if mode < P.COMMITTEE_MEETING_HIT:
            for _ in range(rng.integers(1, 3)):
                extra(committee_pos, a_meeting, str(_choice(rng, P.PROJECT_TOPICS, 1)[0]))
            regular = int(rng.poisson(3))
        elif mode < (1 + P.COMMITTEE_MEETING_HIT) / 2:
            regular = 0  # no committee meeting at all
        else:
            regular = max(1, int(rng.poisson(3)))  # meetings, none on the project
            extra(committee_pos, a_meeting, str(_choice(rng, P.DECOY_TOPICS, 1)[0]))
        for _ in range(regular):
            extra(committee_pos, a_meeting, str(_choice(rng, P.TOPICS["党委会"], 1)[0]))
        # the annual inspection by the 市委组织部: one draw per (unit, year), in H1 or H2
        year_rng = np.random.default_rng([u.seed, u.source_index, 20_000 + t // 2])
        hit, half = year_rng.random() < P.ANNUAL_INSPECTION_HIT, int(year_rng.random() >= 0.3)
        if hit and t % 2 == half:
            extra(committee_pos, a_inspection, "年度基层党建工作检查评估", P.CITY_ORGANIZATION_DEPARTMENT)
    # the yearly 10-day cadre courses (rural_training_*): held in some years, in H1 or H2
    course_rng = np.random.default_rng([u.seed, u.source_index, 21_000 + t // 2])
    cadres = u.members["cadre"][members]
    for cadre_label, course_topic in COURSES:
        held, half = course_rng.random() < u.course_share, int(course_rng.random() >= 0.5)
        cadre = ix("cadre_type", cadre_label)
        if held and t % 2 == half and (cadres == cadre).any():
            extra(committee_pos, a_training, course_topic, own_department, cadre)
    if t % 2 == 1:
        # university and hospital committees: the yearly evaluation
        evaluated = np.flatnonzero((role == ROLE_EVALUATED) & (org_type == ix("org_type", "党委")))
        for p in evaluated[rng.random(len(evaluated)) < P.EVALUATION_HIT]:
            extra(int(p), a_inspection, "党委工作评估", u.ru.name)

    course = np.concatenate([np.full(len(pos), -1, dtype=np.int64), np.array(extra_course, dtype=np.int64)])
    pos = np.concatenate([pos, np.array(extra_pos, dtype=np.int64)])
    act = np.concatenate([act, np.array(extra_act, dtype=np.int64)])
    topic = np.concatenate([topic, np.array(extra_topic, dtype=object)])
    organizer = np.concatenate([organizer, np.array(extra_organizer, dtype=object)])
    order = np.argsort(pos, kind="stable")
    pos, act, topic, organizer, course = pos[order], act[order], topic[order], organizer[order], course[order]
    n = len(pos)

    p_start, p_end = period_bounds(t)
    start = p_start + rng.integers(0, p_end - p_start + 1, n)
    length = np.ones(n, dtype=np.int64)
    for label, (lo, hi) in _DURATION.items():
        rows = np.flatnonzero(act == acts.index(label))
        length[rows] = rng.integers(lo, hi + 1, len(rows))
    courses = np.flatnonzero(course >= 0)
    length[courses] = course_rng.integers(COURSE_DAYS[0], COURSE_DAYS[1] + 1, len(courses))
    start[courses] = np.minimum(start[courses], p_end - length[courses] + 1)
    end = np.minimum(start + length - 1, p_end)

    # participants: the organization's own members, or a committee's size
    org = orgs[pos]
    m_org = u.members["org"][members]
    direct = np.bincount(m_org, minlength=len(u.orgs))[org]
    participants = np.where(direct > 0, rng.binomial(direct, 0.85), rng.integers(5, 30, n))
    participants[act == a_meeting] = rng.integers(5, 12, int((act == a_meeting).sum()))

    train_activity, train_member, train_days = _training(
        u, rng, org, act == a_training, course, start, end, members
    )
    attendees = np.bincount(train_activity, minlength=n)
    participants = np.where(attendees > 0, attendees, participants)
    return Events(
        org, act, topic, organizer, start, end, participants, train_activity, train_member, train_days
    )


def _training(
    u: Universe,
    rng: np.random.Generator,
    org: np.ndarray,
    is_training: np.ndarray,
    course: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    members: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Attendance rows: (activity row, local member index, days).

    course: per activity, the cadre_type index of the cadres a 10-day course is for (else -1).
    """
    m_org = u.members["org"][members]
    m_parent = u.orgs["parent"][m_org]
    cadre = u.members["cadre"][members]
    by_org = np.argsort(m_org, kind="stable")
    by_parent = np.argsort(m_parent, kind="stable")
    sorted_org, sorted_parent = m_org[by_org], m_parent[by_parent]
    township_cadres = np.flatnonzero(cadre == ix("cadre_type", "乡镇干部"))
    role = u.orgs["role"]
    rows_a, rows_m, rows_d = [], [], []
    for a in np.flatnonzero(is_training):
        o = org[a]
        length = int(end[a] - start[a] + 1)
        if course[a] >= 0:
            cadres = np.flatnonzero(cadre == course[a])
            chosen = cadres[rng.random(len(cadres)) < COURSE_ATTENDANCE]
            days = np.where(rng.random(len(chosen)) < 0.97, length, rng.integers(1, length + 1, len(chosen)))
            rows_a.append(np.full(len(chosen), a, dtype=np.int64))
            rows_m.append(members[chosen])
            rows_d.append(days)
            continue
        below = np.concatenate(
            [
                by_org[np.searchsorted(sorted_org, o) : np.searchsorted(sorted_org, o, side="right")],
                by_parent[
                    np.searchsorted(sorted_parent, o) : np.searchsorted(sorted_parent, o, side="right")
                ],
            ]
        )
        if role[o] == ROLE_TOWNSHIP:
            p = np.where(cadre[below] >= 0, 0.9, 0.05)
        elif role[o] == ROLE_COMMITTEE:
            below = np.unique(np.concatenate([below, township_cadres]))
            p = np.where(cadre[below] == ix("cadre_type", "乡镇干部"), 0.15, 0.5)
        else:
            p = np.full(len(below), 0.1)
        chosen = below[rng.random(len(below)) < p]
        days = np.where(rng.random(len(chosen)) < 0.8, length, rng.integers(1, length + 1, len(chosen)))
        rows_a.append(np.full(len(chosen), a, dtype=np.int64))
        rows_m.append(members[chosen])
        rows_d.append(days)
    if not rows_a:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(rows_a), np.concatenate(rows_m), np.concatenate(rows_d)
