"""The dashboard's gap view: published/gaps/<code>.html, one offline page per reporting unit.

A heat-map cell of the dashboard (unit × target, or a unit's target × period) links to
`gaps/<code>.html#g-<target>-<period>`: the section listing what falls short of that target in that
period — each unit or reporting unit, or each organization with a count for member-level targets,
with its covering organization and why (mart_target_gaps). The city's page lists, per target and
period, the shortfall of each reporting unit with a link to its page (the city's items are the
units' own). Plain HTML, no script, no network.
"""

from __future__ import annotations

import html
import os
from collections import defaultdict
from pathlib import Path

from reporting.gaps import gap_rows, has_gaps
from reporting.report import CITY, connect

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#eef3f8}
td.n{text-align:right}.none{color:#2e7d32}:target{background:#fff7d6}
nav a{margin-right:10px}
"""
ITEM_HEADERS = (
    "对象 item",
    "名称 name",
    "类型 type",
    "所属党组织 covering organization",
    "缺口 shortfall",
    "原因 why",
)


def section_id(target_id: str, period: str) -> str:
    return f"g-{target_id}-{period}"


def write_gap_pages(published_db: Path, out_dir: Path) -> list[Path]:
    """Write a page per reporting unit with attainment rows (and the city's); returns their paths.
    Nothing is written when the published marts hold no gap list yet."""
    with connect(published_db) as con:
        if not has_gaps(con):
            return []
        rows = con.execute(
            """
            SELECT a.district_code, d.district_name, a.target_id, t.name_zh, t.name_en, a.period,
                   a.numerator, a.denominator, a.status, p.period_index, t.sort_order
            FROM mart_target_attainment a
            JOIN dim_district d USING (district_code)
            JOIN dim_target t USING (target_id)
            JOIN dim_period p ON p.period = a.period
            ORDER BY a.district_code, p.period_index DESC, t.sort_order
            """
        ).fetchall()
        names = dict(con.execute("SELECT district_code, district_name FROM dim_district").fetchall())
        gaps = defaultdict(list)
        for g in gap_rows(con):
            gaps[(g["district_code"], g["target_id"], g["period"])].append(g)
    by_unit: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_unit[row[0]].append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for code, unit_rows in by_unit.items():
        page = _page(code, names.get(code, code), unit_rows, gaps, names)
        out = out_dir / f"{code}.html"
        partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
        try:
            partial.write_text(page, encoding="utf-8")
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        written.append(out)
    return written


def _page(code: str, name: str, rows: list[tuple], gaps: dict, names: dict[str, str]) -> str:
    e = html.escape
    periods = list(dict.fromkeys(r[5] for r in rows))
    nav = " ".join(f'<a href="#p-{e(p)}">{e(p)}</a>' for p in periods)
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>{e(name)} {e(code)} 缺口清单</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(name)} {e(code)} — 缺口清单 gap list</h1>",
        "<p><a href='../dashboard.html'>← 仪表盘 dashboard</a> · 每个目标、每期未计入分子的单位、组织及原因"
        " / per target and period, what counts in the denominator but not in the numerator, and why.</p>",
        f"<nav>{nav}</nav>",
    ]
    current = None
    for district, _, target, name_zh, name_en, period, numerator, denominator, status, _, _ in rows:
        if period != current:
            parts.append(f"<h2 id='p-{e(period)}'>{e(period)}</h2>")
            current = period
        items = gaps.get((district, target, period), [])
        missing = (denominator or 0) - (numerator or 0) if denominator is not None else None
        head = f"{e(name_zh)} <small>{e(name_en)} ({e(target)})</small>"
        figures = f"{numerator} / {denominator}" if denominator is not None else "无数据 no data"
        parts.append(f"<h3 id='{e(section_id(target, period))}'>{head} — {e(figures)}, {e(status)}</h3>")
        if not items:
            text = "无缺口 nothing falls short" if missing == 0 else "无清单 no list (no denominator)"
            parts.append(f"<p class='none'>{text}</p>")
            continue
        parts.append(_city_table(items, names, target, period) if code == CITY else _item_table(items))
    parts.append("</body></html>")
    return "\n".join(parts)


def _item_table(items: list[dict]) -> str:
    e = html.escape
    lines = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in ITEM_HEADERS) + "</tr>"]
    for g in items:
        org = " ".join(str(v) for v in (g["covering_org_code"], g["covering_org_name"]) if v)
        detail = f" ({g['reason_detail']})" if g["reason_detail"] else ""
        why = f"{g['reason_zh']} / {g['reason_en']}{detail}"
        cells = [g["item_code"] or g["item_level"], g["item_name"] or "", g["item_type"] or "", org]
        lines.append(
            "<tr>"
            + "".join(f"<td>{e(str(c))}</td>" for c in cells)
            + f"<td class='n'>{int(g['shortfall'])}</td><td>{e(why)}</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _city_table(items: list[dict], names: dict[str, str], target: str, period: str) -> str:
    """The city: each reporting unit's shortfall, linking to its own list."""
    e = html.escape
    by_unit: dict[str, int] = defaultdict(int)
    for g in items:
        by_unit[str(g["item_district_code"])] += int(g["shortfall"])
    lines = ["<table><tr><th>填报单位 reporting unit</th><th>缺口 shortfall</th></tr>"]
    for unit, total in sorted(by_unit.items(), key=lambda kv: (-kv[1], kv[0])):
        link = f"{unit}.html#{section_id(target, period)}"
        lines.append(
            f"<tr><td><a href='{e(link)}'>{e(names.get(unit, unit))} {e(unit)}</a></td>"
            f"<td class='n'>{total}</td></tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)
