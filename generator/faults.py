"""Submissions with known defects (`qiangji generate --faults`), and where each must be reported.

From one generated (valid) submission this writes, into `<out>/faults/` (never next to the valid
files: a faulty `_v2` there would replace the valid submission in a run; a landing folder that
holds the `faults` folder only gets it rejected for its name, as any stray file is):

- quarantine files: one planted defect per row, in distinct rows, under the quarantine share in
  every sheet (valid filler rows are added where a sheet is too small), so the file is accepted
  and exactly the planted rows are reported and quarantined;
- the same defects as CSVs in a zip (UTF-8 with BOM, in one top folder, as Windows zips) and as
  GB18030 CSVs with GB18030 entry names, each with a cell over 32,767 characters as well
  (a workbook cannot hold one);
- accepted files: every spelling the format tolerates (full-width characters, date spellings,
  numbers as text, header variants and aliases, English sheet names, boolean and education
  synonyms, 15-digit and lower-case-x IDs, blank rows) with only `extra_column` warnings, a file
  whose event sheets hold no rows, and one with an upper-case extension;
- rejected files: each with one structural error.

`faults.csv` lists every expected problem: file, sheet, row (as Excel shows it, the header is
row 1), column (the spec's header, as the pre-check reports it), rule (a key of
`ingest.errors.RULES`), severity (row | warning | structural) and a description. A rejected file
has exactly one `structural` line (plus the row lines the pre-check still lists when the
rejection is `too_many_row_errors`). `files.csv` lists every file: file, outcome
(accepted | rejected), description; a file with no line in `faults.csv` must be accepted with no
problem at all. The same base submission and seed give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingest import spec
from ingest.identity import check_char, is_valid_id, mask_id
from ingest.settings import IngestSettings
from warehouse.reference import Period, reporting_units

from .periods import EXCEL_EPOCH_OFFSET
from .snapshot import Submission
from .xlsx import new_workbook

FAULTS_DIR = "faults"
MANIFEST_FILE = "faults.csv"
FILES_FILE = "files.csv"
MANIFEST_COLUMNS = ("file", "sheet", "row", "column", "rule", "severity", "description")
FILES_COLUMNS = ("file", "outcome", "description")
NOT_PLANTED = {
    "file_too_large": "needs a file over the 200 MiB limit",
    "version_conflict": "an ingest-time rule (the same version received twice), not a property of one file",
    "cross_district_duplicate": "a warning of the warehouse across two districts' files, not of one file",
    "excel_error": "an error cell is what a failing formula shows: tests/reliability builds such workbooks",
    "unpacked_limits": "a resource bomb (an xlsx part inflating past the limits): tests/support/badfiles.py",
    "sheet_too_large": "a sheet's grid past the limits (a cell at XFD1048576): tests/support/badfiles.py",
    "too_many_rows": "a CSV past Excel's 1,048,576 rows: tests/support/badfiles.py",
    "line_break_in_cell": "a stray quote swallowing rows of a CSV: tests/support/badfiles.py",
    "not_a_regular_file": "a link, FIFO or device in the landing: tests/reliability/test_adversarial.py",
    "reader_memory": "a reader out of its address space: tests/reliability/test_adversarial.py",
    "reader_timeout": "a reader out of time: tests/reliability/test_adversarial.py",
    "reader_crashed": "a reader that crashed: tests/reliability/test_adversarial.py",
}
BASE_ROWS = 3_000  # a base sheet is cut to this many rows (references kept): small files at any scale
COMMITTEE_TYPES = ("区县党委", "系统党委")
_EPOCH = dt.date(1970, 1, 1)
_EXCEL_DAY0 = dt.date(1899, 12, 30)
_SURNAMES = "王李张刘陈杨赵黄周吴"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"

Cells = dict[str, object]
Where = Callable[[Cells], bool] | None


@dataclass
class Expect:
    rule: str
    severity: str  # row | warning | structural
    description: str
    sheet: str | None = None
    column: str | None = None
    row: int | None = None  # set when the file is written (rows move while faults are planted)


@dataclass
class Row:
    cells: Cells
    expects: list[Expect] = field(default_factory=list)
    locked: bool = False  # written by a fault (a clone, a blank row): never picked nor cloned

    @property
    def free(self) -> bool:
        return not self.expects and not self.locked

    @property
    def blank(self) -> bool:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in self.cells.values())


@dataclass
class Table:
    sheet: spec.Sheet
    title: str  # the sheet (or CSV) name written
    columns: list[str]  # cell keys in the order written: spec column names, or extra headers
    headers: dict[str, str]  # cell key -> header written
    rows: list[Row]

    @property
    def height(self) -> int:
        """Rows the reader keeps (it drops blank ones)."""
        return sum(not r.blank for r in self.rows)

    @property
    def bad(self) -> int:
        return sum(any(e.severity == "row" for e in r.expects) for r in self.rows)


@dataclass
class Book:
    district: str
    period: Period
    cover: list[tuple[str, object]]
    tables: list[Table]  # written after the cover in this order (a sheet may be missing or twice)
    expects: list[Expect] = field(default_factory=list)  # not at a row: structural, extra columns
    cover_title: str = spec.COVER.name

    def table(self, alias: str) -> Table:
        return next(t for t in self.tables if t.sheet.alias == alias)

    def all_expects(self) -> list[Expect]:
        out = list(self.expects)
        for table in self.tables:
            for index, row in enumerate(table.rows):
                for e in row.expects:
                    e.row = index + 2
                    out.append(e)
        return out


@dataclass
class FaultFile:
    name: str
    outcome: str  # accepted | rejected
    description: str
    expects: list[Expect]


@dataclass
class FaultSummary:
    folder: Path
    manifest: Path
    files: list[FaultFile]


# --- the base ---------------------------------------------------------------------------------------


def fault_base(jobs: Sequence[tuple[str, int]]) -> tuple[str, int]:
    """The submission the faults start from: the first district (not a system) of the last period."""
    last = max(t for _, t in jobs)
    units = reporting_units()
    return next(((c, t) for c, t in jobs if t == last and units[c].kind != "system"), jobs[-1])


def _cut(tables: dict[str, pl.DataFrame], limit: int = BASE_ROWS) -> dict[str, pl.DataFrame]:
    """At most `limit` members, admissions, activities and training rows, every reference kept."""
    members = tables["members"].head(limit)
    ids = members["national_id"].implode()
    training = tables["training"].filter(pl.col("national_id").is_in(ids)).head(limit)
    used = training["activity_id"].unique().implode()
    activities = (
        tables["activities"]
        .with_row_index("_i")
        .filter(pl.col("activity_id").is_in(used) | (pl.col("_i") < limit))
        .drop("_i")
    )
    admissions = tables["admissions"].filter(pl.col("national_id").is_in(ids)).head(limit)
    return {
        **tables,
        "members": members,
        "admissions": admissions,
        "activities": activities,
        "training": training,
    }


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


class Base:
    """A submission as rows of cells, from which every faulty book is a fresh copy."""

    def __init__(self, sub: Submission) -> None:
        self.district = sub.district
        self.period = Period.parse(sub.period)
        self.submitted = _EPOCH + dt.timedelta(days=sub.submitted)
        self.submitted_by = sub.submitted_by
        tables = _cut(sub.tables)
        self.rows = {
            s.alias: [{k: _cell(v) for k, v in r.items()} for r in tables[s.alias].iter_rows(named=True)]
            for s in spec.DATA_SHEETS
        }

    def book(self) -> Book:
        cover_values = (self.district, str(self.period), self.submitted, self.submitted_by)
        cover = [(c.header, v) for c, v in zip(spec.COVER.columns, cover_values, strict=True)]
        tables = [
            Table(
                s,
                s.name,
                [c.name for c in s.columns],
                {c.name: c.header for c in s.columns},
                [Row(dict(cells)) for cells in self.rows[s.alias]],
            )
            for s in spec.DATA_SHEETS
        ]
        return Book(self.district, self.period, cover, tables)


# --- planting ---------------------------------------------------------------------------------------


def _plus_years(day: dt.date, years: int) -> dt.date:
    if (day.month, day.day) == (2, 29):
        day = day.replace(day=28)
    return day.replace(year=day.year + years)


def _wrong_check(national_id: str) -> str:
    """The ID with a wrong check digit that no numeric cell could have produced (not a multiple of 16)."""
    first17 = national_id[:17]
    return next(first17 + c for c in "0123456789" if c != check_char(first17) and int(first17 + c) % 16 != 0)


class Plant:
    """Edits a book: faults at free rows, valid filler rows, and what the pre-check must say."""

    def __init__(self, book: Book, rng: random.Random) -> None:
        self.book, self.rng = book, rng
        self.start, self.end = book.period.start, book.period.end
        self.serial = 0
        self._cache: dict[str, object] | None = None  # lookups while one pick scans the rows
        self.taken = {
            str(r.cells.get("national_id"))
            for a in ("members", "admissions", "training")
            for r in book.table(a).rows
        }

    # lookups
    def rows(self, alias: str) -> list[Row]:
        return self.book.table(alias).rows

    def _memo(self, key: str, compute: Callable[[], Any]) -> Any:
        if self._cache is None:
            return compute()
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def committee_org(self) -> str:
        return self._memo(
            "committee",
            lambda: next(
                str(r.cells["covering_org_code"])
                for r in self.rows("units")
                if r.cells.get("unit_type") in COMMITTEE_TYPES
            ),
        )

    def referenced_ids(self) -> set[str]:
        return self._memo(
            "ids",
            lambda: {
                str(r.cells.get("national_id")) for a in ("admissions", "training") for r in self.rows(a)
            },
        )

    def trained_activities(self) -> set[str]:
        return self._memo("trained", lambda: {str(r.cells.get("activity_id")) for r in self.rows("training")})

    def activity_days(self, activity_id: object) -> int:
        act = next(r.cells for r in self.rows("activities") if r.cells.get("activity_id") == activity_id)
        return (act["end_date"] - act["start_date"]).days + 1  # type: ignore[operator]

    # predicates
    def non_committee_unit(self, c: Cells) -> bool:
        return c.get("unit_type") not in COMMITTEE_TYPES

    def non_committee_org(self, c: Cells) -> bool:
        return c.get("org_code") != self.committee_org

    def unreferenced_member(self, c: Cells) -> bool:
        """A member whose ID nothing else names (changing it cannot make other rows fail)."""
        nid = str(c.get("national_id"))
        return nid[:17].isdigit() and is_valid_id(nid) and nid not in self.referenced_ids()

    def unreferenced_activity(self, c: Cells) -> bool:
        return c.get("activity_type") != "集中培训" and c.get("activity_id") not in self.trained_activities()

    # rows
    def pick(self, alias: str, where: Where = None) -> Row:
        for _ in range(50):
            self._cache = {}
            candidates = [r for r in self.rows(alias) if r.free and (where is None or where(r.cells))]
            self._cache = None
            if candidates:
                return self.rng.choice(candidates)
            self.filler(alias)
        raise RuntimeError(f"no row of {alias} to plant a fault in")

    def insert(self, alias: str, row: Row) -> Row:
        rows = self.rows(alias)
        rows.insert(self.rng.randint(0, len(rows)), row)
        return row

    def mark(self, alias: str, row: Row, column: str, rule: str, description: str, severity: str = "row"):
        sheet = self.book.table(alias).sheet
        row.expects.append(Expect(rule, severity, description, sheet.name, sheet.column(column).header))

    def describe(self, alias: str, column: str, value: object, note: str = "") -> str:
        header = self.book.table(alias).sheet.column(column).header
        if value is None:
            shown = "left empty"
        elif column == "national_id":
            shown = repr(mask_id(_csv_text(value)))
        elif isinstance(value, str):
            shown = repr(value if len(value) < 40 else value[:20] + "…")
        else:
            shown = _csv_text(value)
        return f"{header} {shown}" + (f": {note}" if note else "")

    def fault(
        self,
        alias: str,
        column: str,
        rule: str,
        where: Where = None,
        change: Callable[[Cells], Cells] | None = None,
        note: str = "",
        severity: str = "row",
        **values: object,
    ) -> Row:
        """Change one free row: `values`, then `change(cells)`; the manifest names the planted value."""
        row = self.pick(alias, where)
        row.cells.update(values)
        if change is not None:
            row.cells.update(change(row.cells))
        description = self.describe(alias, column, row.cells.get(column), note)
        self.mark(alias, row, column, rule, description, severity)
        return row

    def clone_fault(self, alias: str, column: str, rule: str, where: Where = None, note: str = "", **values):
        """A copy of a free row with `values` changed, inserted somewhere in the sheet."""
        source = self.pick(alias, where)
        row = self.insert(alias, Row({**source.cells, **values}, locked=True))
        self.mark(alias, row, column, rule, self.describe(alias, column, row.cells.get(column), note))
        return row

    def duplicate(self, alias: str, column: str, where: Where = None, copies: int = 1) -> None:
        row = self.pick(alias, where)
        key = row.cells[column]
        shown = f"{str(key)[:6]}…" if column == "national_id" else key
        description = f"{copies + 1} rows share the key {shown}: every one of them is reported"
        self.mark(alias, row, column, "duplicate_key", description)
        for _ in range(copies):
            clone = self.insert(alias, Row(dict(row.cells), locked=True))
            self.mark(alias, clone, column, "duplicate_key", description)

    def blank_row(self, alias: str, text: str | None = None) -> None:
        columns = self.book.table(alias).columns
        self.insert(alias, Row({c: text for c in columns}, locked=True))

    # valid filler rows
    def new_id(self, birth: dt.date, male: bool, check: str | None = None) -> str:
        area = self.book.district if self.book.district.isdigit() else "120101"
        while True:
            order = f"{self.rng.randint(0, 99):02d}{self.rng.randrange(1 if male else 0, 10, 2)}"
            first17 = f"{area}{birth:%Y%m%d}{order}"
            nid = first17 + check_char(first17)
            if nid not in self.taken and (check is None or nid.endswith(check)):
                self.taken.add(nid)
                return nid

    def _name(self) -> str:
        return self.rng.choice(_SURNAMES) + "".join(self.rng.choices(_GIVEN, k=self.rng.randint(1, 2)))

    def _day_in_period(self, margin: int = 0) -> dt.date:
        return self.start + dt.timedelta(days=self.rng.randint(0, (self.end - self.start).days - margin))

    def filler_member(self, check: str | None = None, join: dt.date | None = None) -> Row:
        birth = dt.date(self.rng.randint(1950, 1985), self.rng.randint(1, 12), self.rng.randint(1, 28))
        male = self.rng.random() < 0.6
        probation = join is not None
        if join is None:
            join = min(_plus_years(birth, self.rng.randint(20, 35)), self.start - dt.timedelta(days=400))
        orgs = [r.cells["org_code"] for r in self.rows("organizations") if r.free and r.cells.get("org_code")]
        row = Row(
            {
                "national_id": self.new_id(birth, male, check),
                "name": self._name(),
                "gender": "男" if male else "女",
                "birth_date": birth,
                "education": self.rng.choice(["大学本科", "大学专科", "高中", "研究生"]),
                "join_date": join,
                "full_member_date": None if probation else join + dt.timedelta(days=365),
                "member_status": "预备党员" if probation else "正式党员",
                "org_code": self.rng.choice(orgs) if orgs else self.committee_org,
                "occupation": self.rng.choice(["工人", "专业技术人员", "离退休人员", "其他职业人员"]),
            }
        )
        self.rows("members").append(row)
        return row

    def filler_admission(self, national_id: str | None = None) -> Row:
        admitted = self._day_in_period()
        if national_id is None:
            national_id = str(self.filler_member(join=admitted).cells["national_id"])
        activist = admitted - dt.timedelta(days=self.rng.randint(365, 700))
        row = Row(
            {
                "national_id": national_id,
                "admission_date": admitted,
                "application_date": activist - dt.timedelta(days=self.rng.randint(30, 300)),
                "activist_date": activist,
                "recommended": "是",
                "prereviewed": "是",
                "publicized": "是",
                "ballot": self.rng.choice(["是", "否"]),
            }
        )
        self.rows("admissions").append(row)
        return row

    def filler_activity(self, training: bool = False) -> Row:
        self.serial += 1
        start = self._day_in_period(margin=6)
        kind = "集中培训" if training else self.rng.choice(["支部党员大会", "支委会", "党小组会", "党课"])
        row = Row(
            {
                "activity_id": f"{self.book.district}-{self.book.period}-AX{self.serial:06d}",
                "org_code": self.committee_org,
                "activity_type": kind,
                "topic": "冬训" if training else None,
                "start_date": start,
                "end_date": start + dt.timedelta(days=4 if training else 0),
                "participants": self.rng.randint(5, 40),
            }
        )
        self.rows("activities").append(row)
        return row

    def training_activity(self) -> Row:
        acts = [r for r in self.rows("activities") if r.free and r.cells.get("activity_type") == "集中培训"]
        return self.rng.choice(acts) if acts else self.filler_activity(training=True)

    def filler_training(self, national_id: str | None = None) -> Row:
        pairs = {(r.cells.get("activity_id"), r.cells.get("national_id")) for r in self.rows("training")}
        act = self.training_activity()
        members = [
            str(r.cells["national_id"])
            for r in self.rows("members")
            if r.free and is_valid_id(str(r.cells.get("national_id")))
        ]
        for _ in range(20):
            nid = national_id or (self.rng.choice(members) if members else None)
            if nid is None or (act.cells["activity_id"], nid) in pairs:
                nid = str(self.filler_member().cells["national_id"])
            if (act.cells["activity_id"], nid) not in pairs:
                break
        row = Row({"activity_id": act.cells["activity_id"], "national_id": nid, "days": 1.0})
        self.rows("training").append(row)
        return row

    def _copy_of(self, alias: str, where: Callable[[Cells], bool], key: str, code: str) -> None:
        sources = [r for r in self.rows(alias) if r.free and where(r.cells)]
        if not sources:
            raise RuntimeError(f"no row of {alias} to copy")
        self.rows(alias).append(Row({**self.rng.choice(sources).cells, key: code}))

    def filler(self, alias: str) -> None:
        self.serial += 1
        if alias == "units":
            code = f"{self.book.district}-UX{self.serial:06d}"
            self._copy_of("units", self.non_committee_unit, "unit_code", code)
        elif alias == "organizations":
            code = f"{self.book.district}-OX{self.serial:06d}"
            self._copy_of("organizations", self.non_committee_org, "org_code", code)
        elif alias == "members":
            self.filler_member()
        elif alias == "admissions":
            self.filler_admission()
        elif alias == "activities":
            self.filler_activity()
        elif alias == "training":
            self.filler_training()

    def top_up(self, minimum: dict[str, int]) -> None:
        for alias, n in minimum.items():
            while self.book.table(alias).height < n:
                self.filler(alias)

    def pad(self, share: float) -> None:
        """Valid rows until every sheet's planted rows are at most `share` of it (not rejected)."""
        for table in self.book.tables:
            need = int(table.bad / share) + 1 if table.bad else 0
            while table.height < need:
                self.filler(table.sheet.alias)


# --- the faults, sheet by sheet ------------------------------------------------------------------
# Each fault changes one free row (or adds a copy) so that exactly one rule fails, at one cell.


def _units_faults(p: Plant) -> None:
    d, u, ncu = p.book.district, "units", p.non_committee_unit
    p.fault(u, "unit_type", "code_list", ncu, unit_type="村委会")
    p.fault(u, "unit_type", "required", ncu, unit_type=None)
    p.fault(u, "unit_name", "required", ncu, unit_name=None)
    for _ in range(2):
        p.fault(u, "unit_code", "required", ncu, note="twice: an empty key is no duplicate", unit_code=None)
    enterprise = {"unit_type": "国有控股企业", "member_count": 8}
    p.fault(
        u,
        "employee_count",
        "required_for_type",
        ncu,
        note="a 国有控股企业",
        employee_count=None,
        **enterprise,
    )
    social = {"unit_type": "社会组织", "employee_count": 25}
    p.fault(u, "member_count", "required_for_type", ncu, note="a 社会组织", member_count=None, **social)
    p.fault(u, "employee_count", "non_negative", ncu, employee_count=-5)
    p.fault(u, "member_count", "non_negative", ncu, member_count=-1)
    p.fault(u, "board_members", "non_negative", ncu, board_members=-2, cross_appointed=None)
    private = {"unit_type": "非公有制企业", "member_count": 3}
    note = "a 非公有制企业: one message, not also required_for_type"
    p.fault(u, "employee_count", "integer_format", ncu, note=note, employee_count="12.5", **private)
    p.fault(
        u,
        "board_members",
        "integer_format",
        ncu,
        note="a number cell",
        board_members=7.5,
        cross_appointed=None,
    )
    p.fault(
        u,
        "cross_appointed",
        "cross_appointed_range",
        ncu,
        note="5 board members",
        board_members=5,
        cross_appointed=7,
    )
    p.fault(u, "cross_appointed", "cross_appointed_range", ncu, board_members=5, cross_appointed=-1)
    p.fault(u, "has_venue", "boolean_format", ncu, has_venue="有")
    p.fault(u, "is_high_tech", "boolean_format", ncu, is_high_tech="是的")
    p.fault(u, "built_date", "date_format", ncu, note="no such day", built_date="2005-02-30")
    p.fault(u, "rating", "code_list", ncu, rating="优秀")
    p.fault(u, "operating_status", "code_list", ncu, operating_status="良好")
    dangling, note = f"{d}-O999999", "not in 组织: a warning, the unit counts as not covered"
    p.fault(
        u,
        "covering_org_code",
        "dangling_covering_org",
        ncu,
        note=note,
        severity="warning",
        covering_org_code=dangling,
    )
    p.duplicate(u, "unit_code", ncu, copies=2)


def _organization_faults(p: Plant) -> None:
    d, o, nco = p.book.district, "organizations", p.non_committee_org
    p.fault(o, "org_type", "code_list", nco, org_type="支部")
    p.fault(o, "org_type", "required", nco, org_type=None)
    p.fault(o, "org_name", "required", nco, org_name=None)
    p.fault(o, "parent_org_code", "unknown_parent", nco, parent_org_code=f"{d}-O999998")
    p.fault(o, "parent_org_code", "required", nco, note="not the committee", parent_org_code=None)
    late = p.end + dt.timedelta(days=15)
    p.fault(o, "established_date", "after_period_end", nco, established_date=late)
    p.fault(o, "established_date", "date_format", nco, established_date="1998-00-12")
    p.fault(o, "established_date", "required", nco, established_date=None)
    p.clone_fault(o, "org_code", "required", nco, note="a copied row", org_code=None)
    p.duplicate(o, "org_code", nco)


def _member_faults(p: Plant, as_csv: bool = False) -> None:
    """Every rule of 党员, one row each.

    In a CSV the number cell is written as Excel shows it, 1.20101E+17: then no second ID is
    written that way (two such cells are the same text, a duplicate key as well).
    """
    d, m, free_id = p.book.district, "members", p.unreferenced_member

    def digits(c: Cells) -> bool:
        return free_id(c) and str(c.get("national_id")).isdigit()

    def numeric_cell_safe(c: Cells) -> bool:
        """A number cell would lose the last digits, and the rest must not pass as an ID."""
        nid = str(c.get("national_id"))
        if not (free_id(c) and nid.isdigit() and int(nid) % 16 != 0):
            return False
        number = float(nid)  # read back exactly, or as xlsxwriter stores it (16 digits)
        return not any(is_valid_id(str(int(n))) for n in (number, float(f"{number:.16G}")))

    def wrong_check(c: Cells) -> Cells:
        return {"national_id": _wrong_check(str(c["national_id"]))}

    def as_number(c: Cells) -> Cells:
        return {"national_id": float(str(c["national_id"]))}

    def as_scientific(c: Cells) -> Cells:
        return {"national_id": f"{float(str(c['national_id'])):.5E}"}

    def other_gender(c: Cells) -> Cells:
        return {"gender": "女" if c["gender"] == "男" else "男"}

    def day_before(c: Cells) -> Cells:
        return {"birth_date": c["birth_date"] - dt.timedelta(days=1)}  # type: ignore[operator]

    def at_17(c: Cells) -> Cells:
        return {"join_date": _plus_years(c["birth_date"], 17)}  # type: ignore[arg-type]

    def full_before(c: Cells) -> Cells:
        return {"full_member_date": c["join_date"] - dt.timedelta(days=30)}  # type: ignore[operator]

    def woman(c: Cells) -> bool:
        return c.get("gender") == "女"

    def has_full(c: Cells) -> bool:
        return c.get("full_member_date") is not None

    id_ = "national_id"
    p.fault(m, id_, "id_format", free_id, wrong_check, note="wrong check digit")
    p.fault(m, id_, "id_format", free_id, lambda c: {id_: str(c[id_])[:17]}, note="17 characters")
    p.fault(m, id_, "id_numeric_cell", numeric_cell_safe, as_number, note="a number cell: digits lost")
    if not as_csv:
        p.fault(m, id_, "id_numeric_cell", digits, as_scientific, note="copied out of Excel as text")
    for _ in range(2):
        p.fault(m, id_, "required", free_id, note="twice: an empty key is no duplicate", national_id=None)
    p.fault(m, "gender", "id_gender", change=other_gender)
    p.fault(m, "gender", "code_list", woman, note="a woman's ID: no id_gender message", gender="女性")
    p.fault(m, "gender", "required", gender=None)
    p.fault(m, "birth_date", "id_birth_date", change=day_before)
    p.fault(m, "birth_date", "date_format", birth_date="1980-13-45")
    p.fault(m, "education", "code_list", education="小学")
    p.fault(m, "education", "required", education=None)
    p.fault(m, "join_date", "join_age", change=at_17, note="17 years old")
    late = {"join_date": p.end + dt.timedelta(days=10), "full_member_date": None, "member_status": "预备党员"}
    p.fault(m, "join_date", "after_period_end", **late)
    p.fault(m, "join_date", "required", join_date=None)
    p.fault(m, "full_member_date", "full_before_join", has_full, full_before)
    p.fault(m, "member_status", "code_list", member_status="党员")
    p.fault(m, "org_code", "unknown_org", org_code=f"{d}-O999997")
    p.fault(m, "org_code", "required", org_code=None)
    p.fault(m, "is_floating", "boolean_format", is_floating="是的")
    p.fault(m, "cadre_type", "code_list", cadre_type="干部")
    p.fault(m, "occupation", "code_list", occupation="程序员")
    p.duplicate(m, "national_id")
    p.blank_row(m)  # the rows after it keep Excel's numbering
    p.blank_row(m, " ")


def _typo_everywhere(p: Plant) -> None:
    """A wrong check digit copied into the member's admission and training rows: id_format in each.

    (An invalid ID that is not in 党员 also gets unknown_member; this one is in 党员, as typed.)
    """
    member = p.pick("members", p.unreferenced_member)
    bad = _wrong_check(str(member.cells["national_id"]))
    member.cells.update(national_id=bad, member_status="预备党员", full_member_date=None)
    note = "wrong check digit, the same typo in 党员, 发展党员 and 培训"
    p.mark("members", member, "national_id", "id_format", p.describe("members", "national_id", bad, note))
    admission = p.filler_admission(national_id=bad)
    member.cells["join_date"] = admission.cells["admission_date"]
    admission.locked = True
    p.mark(
        "admissions",
        admission,
        "national_id",
        "id_format",
        p.describe("admissions", "national_id", bad, note),
    )
    training = p.filler_training(national_id=bad)
    training.locked = True
    p.mark("training", training, "national_id", "id_format", p.describe("training", "national_id", bad, note))


def _admission_faults(p: Plant) -> None:
    a = "admissions"

    def stranger(c: Cells) -> Cells:
        return {"national_id": p.new_id(dt.date(1980, 1, 2), True)}

    def application_late(c: Cells) -> Cells:
        return {"application_date": c["activist_date"] + dt.timedelta(days=30)}  # type: ignore[operator]

    def activist_late(c: Cells) -> Cells:
        return {"activist_date": c["admission_date"] + dt.timedelta(days=3)}  # type: ignore[operator]

    early = {
        "admission_date": p.start - dt.timedelta(days=10),
        "activist_date": p.start - dt.timedelta(days=400),
        "application_date": p.start - dt.timedelta(days=600),
    }
    p.fault(a, "national_id", "unknown_member", change=stranger, note="a valid ID not in 党员")
    p.fault(a, "national_id", "required", national_id=None)
    p.duplicate(a, "national_id")
    p.fault(a, "admission_date", "outside_period", note="before the period", **early)
    p.fault(
        a, "admission_date", "outside_period", note="after the period", admission_date=p.end + dt.timedelta(5)
    )
    p.fault(a, "admission_date", "required", admission_date=None)
    p.fault(a, "application_date", "application_after_activist", change=application_late)
    p.fault(a, "activist_date", "activist_after_admission", change=activist_late)
    p.fault(a, "activist_date", "required", activist_date=None)
    p.fault(a, "application_date", "date_format", application_date="2005.13.01")
    p.fault(a, "recommended", "boolean_format", recommended="推")


def _activity_faults(p: Plant) -> None:
    d, v, free = p.book.district, "activities", p.unreferenced_activity
    bad_day = f"{p.book.period.year}-{'06' if p.book.period.half == 1 else '09'}-31"
    early = p.start - dt.timedelta(days=3)

    def end_before(c: Cells) -> Cells:
        return {"end_date": c["start_date"] - dt.timedelta(days=1)}  # type: ignore[operator]

    p.duplicate(v, "activity_id", free)
    p.fault(v, "activity_id", "required", free, activity_id=None)
    p.fault(v, "org_code", "unknown_org", free, org_code=f"{d}-O999996")
    p.fault(v, "org_code", "required", free, org_code=None)
    p.fault(v, "activity_type", "code_list", free, activity_type="会议")
    p.fault(v, "activity_type", "required", free, activity_type=None)
    p.fault(
        v, "start_date", "outside_period", free, note="before the period", start_date=early, end_date=early
    )
    p.fault(v, "start_date", "required", free, start_date=None)
    p.fault(v, "end_date", "end_before_start", free, end_before)
    p.fault(v, "end_date", "date_format", free, note="no such day", end_date=bad_day)
    p.fault(v, "participants", "non_negative", free, participants=-3)
    p.fault(v, "participants", "integer_format", free, participants="十二")


def _training_faults(p: Plant) -> None:
    d, r = p.book.district, "training"
    other = p.pick("activities", p.unreferenced_activity)
    other.locked = True  # stays as it is: a valid activity that is not a training

    def too_long(c: Cells) -> Cells:
        return {"days": float(p.activity_days(c["activity_id"]) + 1)}

    def stranger(c: Cells) -> Cells:
        return {"national_id": p.new_id(dt.date(1975, 3, 4), False)}

    note = f"a {other.cells['activity_type']}, not 集中培训"
    p.fault(r, "activity_id", "not_training_activity", note=note, activity_id=other.cells["activity_id"])
    nowhere = f"{d}-{p.book.period}-A999999"
    p.fault(r, "activity_id", "not_training_activity", note="not in 活动", activity_id=nowhere)
    p.fault(r, "activity_id", "required", activity_id=None)
    p.fault(r, "days", "days_over_length", change=too_long, note="one day more than the activity")
    p.fault(r, "days", "positive", days=0.0)
    p.fault(r, "days", "positive", days=-1.0)
    p.fault(r, "days", "number_format", days="三天")
    p.fault(r, "days", "required", days=None)
    p.fault(r, "national_id", "unknown_member", change=stranger, note="a valid ID not in 党员")
    p.fault(r, "national_id", "required", national_id=None)
    p.duplicate(r, "national_id")


def _too_long(p: Plant, alias: str, column: str, where: Where) -> None:
    note = "33,000 characters (only a CSV can hold them)"
    p.fault(alias, column, "text_too_long", where, note=note, **{column: "长" * 33_000})


TOP_UP = {"units": 40, "organizations": 40, "members": 60, "admissions": 30, "activities": 40, "training": 30}


def _quarantine_book(base: Base, seed: int, plant: Callable[[Plant], None], share: float) -> Book:
    book = base.book()
    p = Plant(book, random.Random(seed))
    p.top_up(TOP_UP)
    plant(p)
    p.pad(share)
    return book


# --- accepted spellings ----------------------------------------------------------------------------


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _date_spellings(day: dt.date) -> list[str]:
    return [
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        day.isoformat(),
        str((day - _EXCEL_DAY0).days),
        f"{day.isoformat()} 00:00:00",
        fullwidth(f"{day.year}年{day.month}月{day.day}日"),
    ]


_YES = ["Y", "y", "1", "TRUE", "true", "T", "YES", " 是 "]
_NO = ["N", "n", "0", "FALSE", "false", "F", "no", "否"]
_EDUCATION = {
    "大学本科": ["本科"],
    "研究生": ["硕士", "博士"],
    "大学专科": ["大专", "专科"],
    "中专": ["职高", "技校"],
}
_HEADERS = {  # sheet alias -> column -> the header written
    "units": {"unit_code": "单位编码*", "unit_name": " 单位 名称 ", "unit_type": "单位类型＊"},
    "organizations": {"org_code": "党组织编码", "established_date": "建立日期 *"},
    "members": {"national_id": "身份证号", "birth_date": "出生日期*", "org_code": "所在组织编码 "},
    "admissions": {"national_id": "身份证号码", "admission_date": "\u3000发展日期\u3000"},
    "activities": {"org_code": "党组织编码", "activity_id": "活动编号*"},
    "training": {"national_id": "身份证号码", "days": "培训天数 *"},
}
_TITLES = {"members": "Members", "training": "TRAINING"}


def _normalization_book(base: Base, seed: int) -> Book:
    book = base.book()
    rng = random.Random(seed)
    p = Plant(book, rng)
    p.top_up({"members": 30, "admissions": 6, "activities": 12, "training": 8})

    # a lower-case x, also named in 培训 with an upper-case X
    x_member = p.filler_member(check="X")
    x_id = str(x_member.cells["national_id"])
    p.filler_training(national_id=x_id)
    x_member.cells["national_id"] = x_id.lower()
    x_member.locked = True

    def take(alias: str, where: Where = None) -> Row:
        row = p.pick(alias, where)
        row.locked = True
        return row

    # dates in every spelling
    spellings = len(_date_spellings(p.start))
    for i in range(spellings):
        m = take("members").cells
        m["birth_date"] = _date_spellings(m["birth_date"])[i]  # type: ignore[arg-type]
        m["join_date"] = _date_spellings(m["join_date"])[(i + 3) % spellings]  # type: ignore[arg-type]
    for i, row in enumerate(p.rows("activities")[:spellings]):
        row.cells["start_date"] = _date_spellings(row.cells["start_date"])[i]  # type: ignore[arg-type]
        row.cells["end_date"] = _date_spellings(row.cells["end_date"])[(i + 1) % spellings]  # type: ignore[arg-type]
    for i, row in enumerate(p.rows("admissions")[:spellings]):
        for j, column in enumerate(("admission_date", "application_date", "activist_date")):
            row.cells[column] = _date_spellings(row.cells[column])[(i + j) % spellings]  # type: ignore[arg-type]
    for i, row in enumerate(p.rows("organizations")[:spellings]):
        row.cells["established_date"] = _date_spellings(row.cells["established_date"])[i]  # type: ignore[arg-type]

    # national IDs: 15 digits, spaces around
    def old_style(c: Cells) -> bool:
        nid = str(c.get("national_id"))
        return nid[6:8] == "19" and nid.isdigit()

    m = take("members", old_style).cells
    nid = str(m["national_id"])
    p.filler_training(national_id=nid)  # 培训 names the member with the 18 characters
    m["national_id"] = nid[:6] + nid[8:17]
    m = take("members").cells
    m["national_id"] = f" {m['national_id']} "

    # full-width codes and padded code values
    for _ in range(3):
        m = take("members").cells
        m["org_code"] = fullwidth(str(m["org_code"]))
        m["member_status"] = f"\u3000{m['member_status']} "
    act = take("activities", p.unreferenced_activity).cells
    act["org_code"] = fullwidth(str(act["org_code"]))
    for row in p.rows("training")[:3]:
        row.cells["activity_id"] = fullwidth(str(row.cells["activity_id"]))
    unit = take("units", p.non_committee_unit).cells
    unit["unit_code"] = fullwidth(str(unit["unit_code"]))
    unit["unit_type"] = f"\u3000{unit['unit_type']}\u3000"

    # numbers as text
    unit = take("units", p.non_committee_unit).cells
    unit.update(employee_count="1,234", member_count=" 15 ", board_members="5", cross_appointed="2")
    unit = take("units", p.non_committee_unit).cells
    unit["employee_count"] = fullwidth("320")
    act = take("activities").cells
    act["participants"] = "1,200"
    for row in p.rows("training")[3:6]:
        row.cells["days"] = f"{row.cells['days']:g}"

    # booleans and education synonyms
    for alias in ("units", "members", "admissions"):
        sheet = book.table(alias).sheet
        for column in (c.name for c in sheet.columns if c.dtype == "bool"):
            for row in p.rows(alias):
                value = row.cells.get(column)
                if value in ("是", "否"):
                    row.cells[column] = rng.choice(_YES if value == "是" else _NO)
    for row in p.rows("members"):
        options = _EDUCATION.get(str(row.cells.get("education")))
        if options and rng.random() < 0.5:
            row.cells["education"] = rng.choice(options)

    # blank rows (Excel keeps formatted empty rows)
    p.blank_row("units")
    p.blank_row("members", " ")

    # headers, sheet names, column order, extra columns
    for table in book.tables:
        table.headers.update(_HEADERS.get(table.sheet.alias, {}))
        table.title = _TITLES.get(table.sheet.alias, table.title)
    book.table("organizations").columns.reverse()
    for alias, header, value in (("members", "备注", "已转入"), ("units", "联系人", "张三")):
        table = book.table(alias)
        table.columns.append(header)
        table.headers[header] = header
        for row in table.rows[:3]:
            row.cells[header] = value
        book.expects.append(
            Expect("extra_column", "warning", f"an extra column {header}: ignored", table.sheet.name, header)
        )
    period = str(book.period)
    book.cover = [
        ("填报单位代码*", fullwidth(book.district)),
        (" 报告期 ", period.lower()),
        ("填报日期＊", f"{base.submitted.year}年{base.submitted.month}月{base.submitted.day}日"),
        ("填报人", base.submitted_by),
    ]
    book.cover_title = "Cover"
    return book


# --- rejected files ------------------------------------------------------------------------------


def _structural(
    book: Book,
    rule: str,
    description: str,
    sheet: str | None,
    column: str | None = None,
    row: int | None = None,
) -> Book:
    """The one error that rejects `book`, as the pre-check reports it."""
    book.expects.append(Expect(rule, "structural", description, sheet, column, row))
    return book


def _rejected_books(base: Base, seed: int, share: float) -> list[Book]:
    rng = random.Random(seed)
    out: list[Book] = []
    units, members = spec.UNITS.name, spec.MEMBERS.name

    book = base.book()
    book.tables = [t for t in book.tables if t.sheet.alias != "organizations"]
    out.append(_structural(book, "missing_sheet", "the 组织 sheet is missing", spec.ORGANIZATIONS.name))

    book = base.book()
    book.table("members").columns.remove("education")
    out.append(_structural(book, "missing_column", "党员 has no 学历 column", members, column="学历"))

    book = base.book()
    book.cover = [kv for kv in book.cover if kv[0] != "填报日期"]
    out.append(_structural(book, "missing_column", "no 填报日期 on the cover", "封面", column="填报日期"))

    book = base.book()
    other = next(c for c in ("120102", "120101") if c != book.district)
    book.cover[0] = (book.cover[0][0], other)
    desc = f"the cover says 填报单位代码 {other}"
    out.append(_structural(book, "cover_mismatch", desc, "封面", column="填报单位代码"))

    book = base.book()
    book.cover[1] = (book.cover[1][0], str(book.period.next()))
    desc = f"the cover says 报告期 {book.period.next()}"
    out.append(_structural(book, "cover_mismatch", desc, "封面", column="报告期"))

    book = base.book()
    book.cover[2] = (book.cover[2][0], "不详")
    out.append(_structural(book, "date_format", "填报日期 '不详' on the cover", "封面", column="填报日期"))

    committee_column = spec.UNITS.column("unit_type").header
    book = base.book()
    committee = next(r for r in book.table("units").rows if r.cells["unit_type"] in COMMITTEE_TYPES)
    committee.cells["unit_type"] = "机关"
    desc = "no 区县党委 row in 单位"
    out.append(_structural(book, "committee_count", desc, units, column=committee_column))

    book = base.book()
    rows = book.table("units").rows
    committee = next(r for r in rows if r.cells["unit_type"] in COMMITTEE_TYPES)
    index = rng.randint(rows.index(committee) + 1, len(rows))
    rows.insert(index, Row({**committee.cells, "unit_code": f"{book.district}-U999999"}))
    desc = "two 区县党委 rows in 单位 (reported at the second)"
    out.append(_structural(book, "committee_count", desc, units, column=committee_column, row=index + 2))

    book = base.book()
    committee = next(r for r in book.table("units").rows if r.cells["unit_type"] in COMMITTEE_TYPES)
    committee.cells["unit_type"] = "系统党委"
    desc = "a district's committee typed 系统党委"
    out.append(_structural(book, "committee_count", desc, units, column=committee_column))

    book = base.book()
    book.table("members").rows = []
    out.append(_structural(book, "empty_sheet", "党员 holds only its header", members))

    book = base.book()
    copy = book.table("members")
    book.tables.append(Table(copy.sheet, "members", list(copy.columns), dict(copy.headers), list(copy.rows)))
    desc = "党员 twice: as 党员 and as members"
    out.append(_structural(book, "duplicate_sheet", desc, members))

    book = base.book()
    table = book.table("members")
    table.columns.append("_again")
    table.headers["_again"] = "身份证号"
    for row in table.rows:
        row.cells["_again"] = row.cells["national_id"]
    desc = "both 公民身份号码 and its alias 身份证号"
    out.append(_structural(book, "duplicate_column", desc, members, column="公民身份号码"))

    book = base.book()
    p = Plant(book, rng)
    n = book.table("members").height
    for _ in range(int(n * share) + 1):
        p.fault("members", "education", "code_list", note="one row too many", education="小学")
    desc = f"{int(n * share) + 1} of {n} 党员 rows fail: over the {share:.0%} quarantine share"
    out.append(_structural(book, "too_many_row_errors", desc, members))
    return out


# --- writing ------------------------------------------------------------------------------------


def _serial(day: dt.date) -> int:
    return (day - _EPOCH).days + EXCEL_EPOCH_OFFSET


def _write_xlsx(path: Path, book: Book, created: dt.datetime) -> None:
    workbook = new_workbook(path, f"{book.district} {book.period}", "qiangji", created)
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})

    def put(ws, r: int, c: int, value: object) -> None:
        if value is None or value == "":
            return
        if isinstance(value, dt.date):
            ws.write_number(r, c, _serial(value), date_format)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value)
        else:
            text = str(value)
            if len(text) > 32_767:
                raise ValueError("a workbook cell holds at most 32,767 characters")
            ws.write_string(r, c, text)

    cover = workbook.add_worksheet(book.cover_title)
    for r, (key, value) in enumerate(book.cover):
        cover.write_string(r, 0, key)
        put(cover, r, 1, value)
    for table in book.tables:
        ws = workbook.add_worksheet(table.title)
        for c, key in enumerate(table.columns):
            ws.write_string(0, c, table.headers[key])
        for r, row in enumerate(table.rows, start=1):
            for c, key in enumerate(table.columns):
                put(ws, r, c, row.cells.get(key))
    workbook.close()


def _csv_text(value: object) -> str:
    """A cell as Excel's CSV export writes it."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if abs(value) >= 1e11:
            return f"{value:.5E}"  # Excel's General format: 1.20104E+17
        return f"{value:g}"
    return str(value)


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def _csv_entries(book: Book, encoding: str, alias_names: bool) -> list[tuple[str, bytes]]:
    entries = [
        (
            f"{spec.COVER.alias if alias_names else spec.COVER.name}.csv",
            _csv_bytes([[k, _csv_text(v)] for k, v in book.cover], encoding),
        )
    ]
    for table in book.tables:
        rows = [[table.headers[k] for k in table.columns]]
        rows += [[_csv_text(row.cells.get(k)) for k in table.columns] for row in table.rows]
        name = table.sheet.alias if alias_names else table.sheet.name
        entries.append((f"{name}.csv", _csv_bytes(rows, encoding)))
    return entries


class _LegacyName(zipfile.ZipInfo):
    """An entry name in GB18030 without the UTF-8 flag, as Chinese Windows writes it."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gb18030"), self.flag_bits & ~0x800


def _write_zip(path: Path, entries: list[tuple[str, bytes]], when: dt.datetime, legacy: bool = False) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            info = (_LegacyName if legacy else zipfile.ZipInfo)(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def write_faults(
    out_dir: Path, sub: Submission, seed: int, settings: IngestSettings | None = None
) -> FaultSummary:
    """Write the fault files of one generated submission into `out_dir/faults/`, with the manifests."""
    settings = settings or IngestSettings()
    share = settings.quarantine_share
    folder = Path(out_dir) / FAULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    base = Base(sub)
    when = dt.datetime.combine(base.submitted, dt.time(9))
    stem = f"{base.district}_{base.period}"
    files: list[FaultFile] = []
    version = iter(range(2, 1000))

    def name(ext: str = "xlsx") -> str:
        return f"{stem}_v{next(version)}.{ext}"

    def add(file: str, book: Book | None, description: str, expects: list[Expect] | None = None) -> None:
        expects = expects if expects is not None else book.all_expects() if book else []
        outcome = "rejected" if any(e.severity == "structural" for e in expects) else "accepted"
        files.append(FaultFile(file, outcome, description, expects))

    def xlsx(book: Book, description: str, file: str | None = None) -> None:
        file = file or name()
        _write_xlsx(folder / file, book, when)
        add(file, book, description)

    def plan(*plants: Callable[[Plant], None]) -> Callable[[Plant], None]:
        def apply(p: Plant) -> None:
            for plant in plants:
                plant(p)

        return apply

    # quarantine: accepted, exactly the planted rows reported
    sheets_plan = plan(_units_faults, _organization_faults)
    members_plan = plan(_member_faults)
    events_plan = plan(_typo_everywhere, _admission_faults, _activity_faults, _training_faults)
    xlsx(_quarantine_book(base, seed, sheets_plan, share), "单位 and 组织 row faults; quarantined, accepted")
    xlsx(_quarantine_book(base, seed + 1, members_plan, share), "党员 row faults and blank rows; accepted")
    xlsx(_quarantine_book(base, seed + 2, events_plan, share), "发展党员, 活动, 培训 row faults; accepted")

    def members_csv(p: Plant) -> None:
        _member_faults(p, as_csv=True)
        _too_long(p, "members", "floating_managed_by", None)

    def events_csv(p: Plant) -> None:
        events_plan(p)
        _too_long(p, "activities", "topic", p.unreferenced_activity)

    book = _quarantine_book(base, seed + 3, members_csv, share)
    file = name("zip")
    top = file.removesuffix(".zip")
    entries = [(f"{top}/{n}", data) for n, data in _csv_entries(book, "utf-8-sig", alias_names=False)]
    _write_zip(folder / file, entries, when)
    add(file, book, "党员 row faults as UTF-8 (BOM) CSVs in a zip with one top folder, plus a cell too long")

    book = _quarantine_book(base, seed + 4, events_csv, share)
    file = name("zip")
    _write_zip(folder / file, _csv_entries(book, "gb18030", alias_names=False), when, legacy=True)
    add(file, book, "event row faults as GB18030 CSVs with GB18030 entry names, plus a cell too long")

    # accepted as they are
    xlsx(_normalization_book(base, seed + 5), "every tolerated spelling; only extra_column warnings")
    book = base.book()
    for table in book.tables:
        if table.sheet.kind == "event":
            table.rows = []
    xlsx(book, "发展党员, 活动 and 培训 hold only their headers: accepted")
    xlsx(base.book(), "the base file with an upper-case extension: accepted", file=name("XLSX"))

    # rejected: one structural error each
    for book in _rejected_books(base, seed + 6, share):
        xlsx(book, next(e.description for e in book.expects if e.severity == "structural"))

    file = name()
    _write_xlsx(folder / file, base.book(), when)
    data = (folder / file).read_bytes()
    (folder / file).write_bytes(data[: len(data) // 2])
    add(
        file,
        None,
        "a workbook cut in half",
        [Expect("unreadable_file", "structural", "a workbook cut in half")],
    )

    file = name("zip")
    (folder / file).write_bytes(b"PK\x03\x04 this is not a zip archive" * 4)
    add(file, None, "not a zip archive", [Expect("unreadable_file", "structural", "not a zip archive")])

    file = name("zip")
    entries = _csv_entries(base.book(), "utf-8", alias_names=True)
    entries[3] = (f"../{entries[3][0]}", entries[3][1])
    _write_zip(folder / file, entries, when)
    add(
        file, None, "a zip entry ../members.csv", [Expect("unsafe_entry", "structural", "../ in a zip entry")]
    )

    file = name("zip")
    limit = settings.max_zip_entries
    entries = _csv_entries(base.book(), "utf-8", alias_names=True)
    entries += [(f"readme{i:03d}.txt", b"-") for i in range(limit + 1 - len(entries))]
    _write_zip(folder / file, entries, when)
    desc = f"a zip of {limit + 1} entries"
    add(file, None, desc, [Expect("zip_limits", "structural", desc)])

    for file, rule, desc in (
        (f"{stem} (1).xlsx", "file_name", "a copy named as Windows names copies"),
        (f"129999_{base.period}.xlsx", "unknown_district", "129999 is not a reporting unit"),
    ):
        _write_xlsx(folder / file, base.book(), when)
        add(file, None, desc, [Expect(rule, "structural", desc)])

    manifest = folder / MANIFEST_FILE
    with open(manifest, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for ff in files:
            for e in sorted(ff.expects, key=_order):
                writer.writerow(
                    [ff.name, e.sheet or "", e.row or "", e.column or "", e.rule, e.severity, e.description]
                )
    with open(folder / FILES_FILE, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FILES_COLUMNS)
        writer.writerows([ff.name, ff.outcome, ff.description] for ff in files)
    return FaultSummary(folder, manifest, files)


def _order(e: Expect) -> tuple:
    sheets = [s.name for s in spec.SHEETS]
    return (
        e.severity != "structural",
        sheets.index(e.sheet) if e.sheet in sheets else -1,
        e.row or 0,
        e.column or "",
        e.rule,
    )
