"""`qiangji report`: target attainment per reporting unit for one period, read from the published marts.

Dagster-free. Every reader opens `published/marts.duckdb` read-only (what BI tools read; never the
live warehouse) and returns plain rows; the formatters turn rows into a rich table, CSV or JSON.
The dashboard (`reporting/dashboard/`) uses the same readers, labels and colors.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Group
from rich.table import Table
from rich.text import Text

from warehouse.reference import CITY_CODE as CITY
from warehouse.reference import STATUSES

# The labels of the statuses, as in mart_target_attainment's column description.
STATUS_ZH = {
    "achieved": "达成",
    "on_track": "按进度",
    "at_risk": "滞后",
    "missed": "未达成",
    "no_data": "无数据",
}
STATUS_COLORS = {  # the dashboard's palette
    "achieved": "#2e7d32",
    "on_track": "#1f8fa6",
    "at_risk": "#f2a20c",
    "missed": "#c62828",
    "no_data": "#c4c4c4",
}
STATUS_STYLES = {  # the terminal's
    "achieved": "green",
    "on_track": "cyan",
    "at_risk": "yellow",
    "missed": "bold red",
    "no_data": "dim",
}
BEHIND = ("missed", "at_risk")

# One row of the report, in this column order (CSV header, JSON keys).
COLUMNS = (
    "period",
    "district_code",
    "district_name",
    "target_id",
    "target_name_zh",
    "target_name_en",
    "target_kind",
    "numerator",
    "denominator",
    "value",
    "target_value",
    "deadline_period",
    "cadence",
    "status",
)


class ReportError(ValueError):
    """A period or reporting unit that the published marts do not know (a usage error)."""


@dataclass(frozen=True)
class Report:
    period: str
    district: str | None  # a district_code, or None for every reporting unit and the city
    rows: list[dict[str, object]]


@contextmanager
def connect(published_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published marts, read-only (a reader never blocks the next publication's rename)."""
    if not Path(published_db).is_file():
        raise FileNotFoundError(f"no published marts at {published_db} (run `qiangji run` first)")
    with duckdb.connect(str(published_db), read_only=True) as con:
        yield con


def target_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """target_id -> short Chinese name, in the document's order (dim_target, from the targets seed)."""
    return dict(con.execute("SELECT target_id, name_zh FROM dim_target ORDER BY sort_order").fetchall())


def periods(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [p for (p,) in con.execute("SELECT period FROM dim_period ORDER BY period_index").fetchall()]


def latest_period(con: duckdb.DuckDBPyConnection, district: str | None = None) -> str | None:
    """The latest period with data: some target of some unit (or of `district`) has a status other
    than no_data."""
    row = con.execute(
        """
        SELECT p.period FROM mart_target_attainment a JOIN dim_period p USING (period)
        WHERE a.status <> 'no_data' AND ($district IS NULL OR a.district_code = $district)
        ORDER BY p.period_index DESC LIMIT 1
        """,
        {"district": district},
    ).fetchone()
    return row[0] if row else None


def resolve_district(con: duckdb.DuckDBPyConnection, district: str) -> str:
    """A reporting unit's code from its code or its name (天津市 / 120000 is the city)."""
    row = con.execute(
        "SELECT district_code FROM dim_district WHERE district_code = $d OR district_name = $d",
        {"d": district.strip()},
    ).fetchone()
    if row is None:
        raise ReportError(f"unknown reporting unit {district!r}: give a code such as 120104 or a name")
    return row[0]


def _number(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def attainment_rows(
    con: duckdb.DuckDBPyConnection, period: str | None = None, district: str | None = None
) -> list[dict[str, object]]:
    """Rows of mart_target_attainment with names, for one period or all, one unit or all.

    Ordered by period, then the city first and the units by code, then the document's target order.
    """
    cursor = con.execute(
        """
        SELECT a.period, a.district_code, d.district_name, a.target_id, t.name_zh AS target_name_zh,
               t.name_en AS target_name_en, t.sort_order,
               a.target_kind, a.numerator, a.denominator, a.value, a.target_value, a.deadline_period,
               t.cadence, a.status, p.period_index
        FROM mart_target_attainment a
        JOIN dim_district d USING (district_code)
        JOIN dim_target t USING (target_id)
        JOIN dim_period p ON p.period = a.period
        WHERE ($period IS NULL OR a.period = $period) AND ($district IS NULL OR a.district_code = $district)
        """,
        {"period": period, "district": district},
    )
    names = [c[0] for c in cursor.description]
    raw = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    raw.sort(
        key=lambda r: (r["period_index"], r["district_code"] != CITY, r["district_code"], r["sort_order"])
    )
    return [{c: _number(r[c]) for c in COLUMNS} for r in raw]


def attainment_report(published_db: Path, period: str | None = None, district: str | None = None) -> Report:
    """The report of `qiangji report`: every target of one unit (or of every unit and the city), one period.

    `period` defaults to the latest period with data; `district` is a code or a name.
    """
    with connect(published_db) as con:
        known = periods(con)
        if period is None:
            period = latest_period(con)
            if period is None:
                raise ReportError("the published marts have no data yet")
        elif period not in known:
            raise ReportError(f"unknown period {period!r}: one of {known[0]}..{known[-1]}")
        code = resolve_district(con, district) if district else None
        return Report(period, code, attainment_rows(con, period, code))


@dataclass(frozen=True)
class Behind:
    district_code: str
    district_name: str
    missed: list[str]  # target ids
    at_risk: list[str]

    @property
    def count(self) -> int:
        return len(self.missed) + len(self.at_risk)


def behind_ranking(rows: list[dict[str, object]], include_city: bool = False) -> list[Behind]:
    """Units by how far behind they are: most missed + at_risk targets first, then most missed, then code.

    Units with nothing behind are listed too (at the end), so the ranking names every unit.
    """
    units: dict[str, Behind] = {}
    for r in rows:
        code = str(r["district_code"])
        if code == CITY and not include_city:
            continue
        unit = units.setdefault(code, Behind(code, str(r["district_name"]), [], []))
        if r["status"] == "missed":
            unit.missed.append(str(r["target_id"]))
        elif r["status"] == "at_risk":
            unit.at_risk.append(str(r["target_id"]))
    return sorted(units.values(), key=lambda b: (-b.count, -len(b.missed), b.district_code))


def city_summary(published_db: Path) -> Report:
    """The city's rows of its latest period with data (targets it has a value for): what `qiangji run`
    prints at its end. Each row also counts the units behind on that target (`units_behind`)."""
    with connect(published_db) as con:
        period = latest_period(con, CITY)
        rows = attainment_rows(con, period) if period else []
    behind: dict[str, int] = {}
    for r in rows:
        if r["district_code"] != CITY and r["status"] in BEHIND:
            behind[str(r["target_id"])] = behind.get(str(r["target_id"]), 0) + 1
    city = [
        {**r, "units_behind": behind.get(str(r["target_id"]), 0)}
        for r in rows
        if r["district_code"] == CITY and r["numerator"] is not None
    ]
    return Report(period or "", CITY, sorted(city, key=lambda r: str(r["target_id"])))


def submission_totals(published_db: Path) -> dict[str, int]:
    """Files received over all units and periods, by what became of them (mart_submission_status)."""
    columns = ("files_received", "files_rejected", "files_superseded", "files_pending")
    with connect(published_db) as con:
        row = con.execute(
            "SELECT " + ", ".join(f"coalesce(sum({c}), 0)" for c in columns) + " FROM mart_submission_status"
        ).fetchone()
    return {c.removeprefix("files_"): int(v) for c, v in zip(columns, row or (0,) * 4, strict=True)}


def status_counts(rows: list[dict[str, object]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for r in rows:
        counts[str(r["status"])] = counts.get(str(r["status"]), 0) + 1
    return counts


# ---- formatting -------------------------------------------------------------------------------------


def format_value(value: object, kind: object) -> str:
    """A share as a percentage, a count as an integer; empty for no value."""
    if value is None:
        return ""
    number = float(value)  # type: ignore[arg-type]
    if kind == "count":
        return f"{number:,.0f}"
    return f"{number:.1%}"


def format_target(row: dict[str, object]) -> str:
    if row["target_kind"] == "rising":
        return "逐年提高 rising"
    return format_value(row["target_value"], row["target_kind"])


def format_deadline(row: dict[str, object]) -> str:
    if row["deadline_period"]:
        return str(row["deadline_period"])
    return "每年 every year" if row["cadence"] == "year" else "每期 every period"


def format_csv(rows: list[dict[str, object]]) -> str:
    """CSV with a header, one line per row, raw numbers (shares as fractions), UTF-8 text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: "" if r[c] is None else r[c] for c in COLUMNS} for r in rows)
    return buffer.getvalue()


def format_json(rows: list[dict[str, object]]) -> str:
    """A JSON array of row objects (keys as COLUMNS, null for no value), Chinese unescaped."""
    return json.dumps(rows, ensure_ascii=False, indent=2)


def render_table(report: Report) -> Group:
    """The terminal report: the rows with colored statuses, then who is furthest behind."""
    title = f"强基创先 目标达成 target attainment, {report.period}"
    if report.district:
        first = report.rows[0] if report.rows else None
        title += f" — {first['district_name'] if first else ''} {report.district}"
    table = Table(title=title, title_style="bold")
    table.add_column("单位 unit", no_wrap=True)
    table.add_column("目标 target")
    table.add_column("", style="dim")
    table.add_column("值 value", justify="right")
    table.add_column("目标值 target", justify="right")
    table.add_column("期限 deadline")
    table.add_column("状态 status", no_wrap=True)
    previous = None
    for i, r in enumerate(report.rows):
        unit = f"{r['district_name']} {r['district_code']}"
        last_of_unit = i + 1 == len(report.rows) or report.rows[i + 1]["district_code"] != r["district_code"]
        status = str(r["status"])
        table.add_row(
            unit if unit != previous else "",
            str(r["target_name_zh"]),
            str(r["target_id"]),
            format_value(r["value"], r["target_kind"]),
            format_target(r),
            format_deadline(r),
            Text(f"{STATUS_ZH.get(status, status)} {status}", style=STATUS_STYLES.get(status, "")),
            end_section=last_of_unit and report.district is None,
        )
        previous = unit
    parts: list[object] = [table]
    counts = status_counts(report.rows)
    summary = Text("  ".join(f"{STATUS_ZH[s]} {s}: {n}" for s, n in counts.items()))
    parts.append(summary)
    ranking = [b for b in behind_ranking(report.rows) if b.count]
    if report.district is None and ranking:
        lines = Text()
        lines.append("落后最多 furthest behind:\n", style="bold")
        for b in ranking[:5]:
            lines.append(f"  {b.district_name} {b.district_code}: ")
            lines.append(f"{len(b.missed)} 未达成 missed", style=STATUS_STYLES["missed"])
            lines.append(", ")
            lines.append(f"{len(b.at_risk)} 滞后 at risk", style=STATUS_STYLES["at_risk"])
            lines.append(f" ({', '.join(b.missed + b.at_risk)})\n")
        parts.append(lines)
    return Group(*parts)  # type: ignore[arg-type]


def render_city_summary(summary: Report) -> Table:
    """The attainment summary of `qiangji run`: the city's value and status per target."""
    table = Table(title=f"天津市 强基创先 target attainment, {summary.period} (city)")
    for col in ("target", "", "value", "target", "deadline", "status", "units behind"):
        table.add_column(col)
    for r in summary.rows:
        value, target, status = r["value"], r["target_value"], str(r["status"])
        table.add_row(
            str(r["target_id"]),
            str(r["target_name_en"]),
            "" if value is None else f"{value:.1%}" if value <= 1 else f"{value:g}",  # type: ignore[operator]
            "" if target is None else f"{float(target):.1%}" if target <= 1 else f"{float(target):g}",  # type: ignore[operator,arg-type]
            str(r["deadline_period"] or "every period"),
            Text(status, style=STATUS_STYLES.get(status, "")),
            str(r["units_behind"]),
        )
    return table
