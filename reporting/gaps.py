"""Gap lists (缺口清单): what falls short of each target, read from the published marts.

`mart_target_gaps` lists, per row of the attainment mart (target, reporting unit or the city,
period), each unit, reporting unit or organization that counts in the denominator but not in the
numerator, and why; member-level targets give counts per organization, never persons. Their
shortfalls add up to denominator − numerator (the dbt test `gaps_explain_attainment`).

Three ways out, the same rows: `qiangji report --gaps` (table, CSV, JSON or one xlsx), one
workbook per reporting unit in published/gaps/ for the district offices (`write_gap_workbooks`),
and the dashboard's gap view (reporting/dashboard). Headers in Chinese come from the published
columns' comments (their label before " / "), the one place the marts' documentation lives.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.console import Group
from rich.table import Table
from rich.text import Text

from reporting.report import ReportError, connect, latest_period, periods, resolve_district
from warehouse.publish import neutralize_formula
from warehouse.reference import CITY_CODE as CITY

GAPS_TABLE = "mart_target_gaps"
# the columns of a gap row, in this order (CSV header, JSON keys, the workbooks' columns)
GAP_COLUMNS = (
    "period",
    "district_code",
    "target_id",
    "target_name_zh",
    "target_name_en",
    "item_district_code",
    "item_level",
    "item_code",
    "item_name",
    "item_type",
    "covering_org_code",
    "covering_org_name",
    "covering_org_type",
    "shortfall",
    "reason_code",
    "reason_zh",
    "reason_en",
    "reason_detail",
)
LEVEL_ZH = {"unit": "单位", "organization": "党组织", "reporting_unit": "填报单位"}
SHOWN_IN_TABLE = 200  # rows a terminal shows; CSV, JSON and xlsx hold them all


@dataclass(frozen=True)
class GapReport:
    period: str | None  # None: every period (the district offices' workbooks)
    district: str | None  # a district_code, or None for every reporting unit and the city
    target: str | None
    rows: list[dict[str, object]]

    @property
    def shortfall(self) -> int:
        return sum(int(r["shortfall"] or 0) for r in self.rows)


def gap_rows(
    con: duckdb.DuckDBPyConnection,
    period: str | None = None,
    district: str | None = None,
    target: str | None = None,
) -> list[dict[str, object]]:
    """Rows of the gap mart, ordered as the attainment report: period, the city first, then the
    units by code, the document's target order, then the largest shortfall first."""
    cursor = con.execute(
        f"""
        SELECT {", ".join("g." + c for c in GAP_COLUMNS)}
        FROM {GAPS_TABLE} g
        JOIN dim_target t USING (target_id)
        JOIN dim_period p ON p.period = g.period
        WHERE ($period IS NULL OR g.period = $period)
          AND ($district IS NULL OR g.district_code = $district)
          AND ($target IS NULL OR g.target_id = $target)
        ORDER BY p.period_index, g.district_code <> '{CITY}', g.district_code, t.sort_order,
                 g.shortfall DESC, g.item_district_code, g.item_code
        """,
        {"period": period, "district": district, "target": target},
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def gap_report(
    published_db: Path,
    period: str | None = None,
    district: str | None = None,
    target: str | None = None,
    every_period: bool = False,
) -> GapReport:
    """The gap list of one period (default: the latest with data), one unit or all, one target or
    all; `district` a code or a name. Unknown values raise ReportError."""
    with connect(published_db) as con:
        _require_gaps(con)
        code = resolve_district(con, district) if district else None
        if target is not None:
            known = [t for (t,) in con.execute("SELECT target_id FROM dim_target").fetchall()]
            if target not in known:
                raise ReportError(f"unknown target {target!r}: one of {', '.join(sorted(known))}")
        if every_period:
            period = None
        elif period is None:
            period = latest_period(con, code)
            if period is None:
                raise ReportError("the published marts have no data yet")
        elif period not in periods(con):
            known_periods = periods(con)
            raise ReportError(f"unknown period {period!r}: one of {known_periods[0]}..{known_periods[-1]}")
        return GapReport(period, code, target, gap_rows(con, period, code, target))


def has_gaps(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the published marts hold the gap list (a publication before it existed does not)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $t AND schema_name = 'main'",
        {"t": GAPS_TABLE},
    ).fetchone()
    return bool(found and found[0])


def _require_gaps(con: duckdb.DuckDBPyConnection) -> None:
    if not has_gaps(con):
        raise ReportError(f"the published marts have no {GAPS_TABLE} yet: run `qiangji run` again")


def column_labels(con: duckdb.DuckDBPyConnection, table: str = GAPS_TABLE) -> dict[str, str]:
    """Each column's Chinese label: its published comment up to " / " (the column name if none)."""
    rows = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = $t AND schema_name = 'main'",
        {"t": table},
    ).fetchall()
    return {name: (comment or "").split(" / ")[0].strip() or name for name, comment in rows}


# ---- formats ----------------------------------------------------------------------------------------


def format_gaps_csv(rows: list[dict[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=GAP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: "" if r[c] is None else r[c] for c in GAP_COLUMNS} for r in rows)
    return buffer.getvalue()


def format_gaps_json(rows: list[dict[str, object]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)


def render_gaps_table(report: GapReport) -> Group:
    """The terminal's gap list: a section per target and unit, the largest shortfalls first."""
    where = report.district or "全市及各填报单位 every unit and the city"
    title = f"缺口清单 gap list, {report.period or 'every period'} — {where}"
    table = Table(title=title, title_style="bold")
    headers = ("单位 unit", "目标 target", "对象 item", "类型 type", "所属党组织 org", "缺口", "原因 why")
    for name in headers:
        table.add_column(name, justify="right" if name == "缺口" else "left")
    previous = None
    for i, r in enumerate(report.rows[:SHOWN_IN_TABLE]):
        key = (r["district_code"], r["target_id"])
        item = " ".join(str(v) for v in (r["item_code"], r["item_name"]) if v)
        org = " ".join(str(v) for v in (r["covering_org_code"], r["covering_org_name"]) if v)
        nxt = report.rows[i + 1] if i + 1 < min(len(report.rows), SHOWN_IN_TABLE) else None
        table.add_row(
            str(r["district_code"]) if key != previous else "",
            f"{r['target_name_zh']} {r['target_id']}" if key != previous else "",
            item or LEVEL_ZH.get(str(r["item_level"]), str(r["item_level"])),
            str(r["item_type"] or ""),
            org,
            str(r["shortfall"]),
            f"{r['reason_zh']} {r['reason_en']}" + (f" ({r['reason_detail']})" if r["reason_detail"] else ""),
            end_section=nxt is not None and (nxt["district_code"], nxt["target_id"]) != key,
        )
        previous = key
    more = len(report.rows) - SHOWN_IN_TABLE
    summary = Text(f"{len(report.rows):,} rows, shortfall {report.shortfall:,}")
    if more > 0:
        summary.append(f" — {more:,} more rows: --format csv, json or xlsx for all of them", style="dim")
    return Group(table, summary)


def write_gaps_xlsx(rows: list[dict[str, object]], out: Path, labels: dict[str, str], title: str) -> Path:
    """One workbook: a summary (shortfall per target and period) and the list, Chinese headers,
    frozen header row, filters. Written aside and renamed into place."""
    import xlsxwriter

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    book = xlsxwriter.Workbook(str(partial), {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        summary = book.add_worksheet("汇总")
        summary.write_string(0, 0, title, book.add_format({"bold": True, "font_size": 13}))
        totals: dict[tuple[str, str, str], int] = {}
        for r in rows:
            key = (str(r["period"]), str(r["target_id"]), str(r["target_name_zh"]))
            totals[key] = totals.get(key, 0) + int(r["shortfall"] or 0)
        headers = ["报告期 period", "目标编号 target", "目标名称 name", "缺口数 shortfall"]
        for c, h in enumerate(headers):
            summary.write_string(2, c, h, bold)
        for i, ((period, target, name), total) in enumerate(sorted(totals.items()), start=3):
            summary.write_row(i, 0, [period, target, name])
            summary.write_number(i, 3, total)
        summary.freeze_panes(3, 0)
        summary.autofilter(2, 0, max(len(totals) + 2, 3), len(headers) - 1)
        summary.set_column(0, 1, 14)
        summary.set_column(2, 2, 30)
        summary.set_column(3, 3, 12)
        sheet = book.add_worksheet("缺口清单")
        for c, name in enumerate(GAP_COLUMNS):
            sheet.write_string(0, c, labels.get(name, name), bold)
        for r, row in enumerate(rows, start=1):
            for c, name in enumerate(GAP_COLUMNS):
                value = row[name]
                if value is None:
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, neutralize_formula(str(value)))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), len(GAP_COLUMNS) - 1)
        for c, name in enumerate(GAP_COLUMNS):
            sheet.set_column(c, c, 28 if name in ("item_name", "covering_org_name", "reason_en") else 14)
        book.close()
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def write_gap_workbooks(published_db: Path, out_dir: Path) -> list[Path]:
    """published/gaps/<code>_<name>.xlsx: each reporting unit's own gap list over every period (and
    the city's, 120000_天津市.xlsx), for the district offices. A unit's file is rewritten at each
    publication; a unit with no gap gets a file saying so."""
    with connect(published_db) as con:
        _require_gaps(con)
        labels = column_labels(con)
        units = con.execute("SELECT district_code, district_name FROM dim_district ORDER BY 1").fetchall()
        found = con.execute("SELECT DISTINCT district_code FROM mart_target_attainment").fetchall()
        reporting = {code for (code,) in found}
        written = []
        for code, name in units:
            if code not in reporting:
                continue
            rows = gap_rows(con, district=code)
            out = out_dir / f"{code}_{name}.xlsx"
            written.append(write_gaps_xlsx(rows, out, labels, f"{name} {code} 缺口清单 gap list"))
    return written
