"""The attainment dashboard: one static, offline HTML page built from the published marts.

`build_dashboard(published_db, out)` reads `published/marts.duckdb` read-only and writes one HTML
file (temp file + rename) with:

- a headline and a ranking of reporting units by missed and at-risk targets (who is furthest behind,
  and on what), next to a heat map of reporting unit × target colored by status, for the period
  chosen in a selector (a Vega-Lite param; the latest period with data by default);
- the submission status of every unit and period (mart_submission_status);
- one trend chart per target: the city line (points colored by status), every unit as a faint line,
  the target line, the deadline and, for targets with a deadline, the city's on-track line;
- a section per reporting unit (anchor `#d-<code>`): target × period colored by status.

Charts are Altair (Vega-Lite) specs embedded with vega-embed; Vega, Vega-Lite and vega-embed are
inlined from vl-convert-python's bundle, so the page needs no network. The data are stored once in
the page as named datasets that every spec shares. Dagster-free.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path

import altair as alt
import duckdb

from ingest.report import (
    CITY,
    STATUS_COLORS,
    STATUS_ZH,
    STATUSES,
    ReportError,
    attainment_rows,
    behind_ranking,
    connect,
    latest_period,
    periods,
)

FONT = (
    '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    "sans-serif"
)
SUBMISSION_COLORS = {"accepted": "#2e7d32", "rejected": "#c62828", "missing": "#c4c4c4"}
SUBMISSION_ZH = {"accepted": "已接收", "rejected": "被拒收", "missing": "未报送"}
KIND_ZH = {"district": "区", "county": "县", "system": "市级系统"}
LABEL_WIDTH = 190  # px reserved for the target labels, so stacked charts line up
TRENDS_PER_ROW = 4


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script (from vl-convert-python; no network)."""
    import vl_convert as vlc
    from altair.vegalite import SCHEMA_VERSION

    return vlc.javascript_bundle(vl_version="_".join(SCHEMA_VERSION.split(".")[:2]))


# ---- data -------------------------------------------------------------------------------------------


def _short_value(value: float | None, kind: str | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if kind == "count" else f"{value:.0%}"


def _value_text(row: dict) -> str:
    value, kind = row["value"], row["target_kind"]
    if value is None:
        return "—"
    if kind == "count":
        return f"{value:,.0f}"
    if row["numerator"] is not None and row["denominator"]:
        return f"{value:.1%} ({row['numerator']:,}/{row['denominator']:,})"
    return f"{value:.1%}"


def _target_text(target_value: float | None, kind: str, deadline: str | None, cadence: str) -> str:
    if kind == "rising":
        goal = "逐年提高 rising every year"
    elif kind == "count":
        goal = f"≥ {target_value:,.0f}"
    else:
        goal = f"≥ {target_value:.1%}" if target_value < 1 else "100%"
    if deadline:
        return f"{goal}, 期限 by {deadline}"
    return f"{goal}, 每年 every year" if cadence == "year" else f"{goal}, 每期 every period"


def _on_track_lines(rows: list[dict], period_list: list[str], targets: dict[str, dict]) -> list[dict]:
    """The city's on-track line of each target with a deadline: from its first value to the target."""
    index = {p: i for i, p in enumerate(period_list)}
    lines = []
    for target_id, t in targets.items():
        deadline = t["deadline_period"]
        if not deadline or t["target_kind"] == "rising" or deadline not in index:
            continue
        city = [r for r in rows if r["target_id"] == target_id and r["district_code"] == CITY]
        first = next((r for r in city if r["value"] is not None), None)
        if first is None or index[first["period"]] >= index[deadline]:
            continue
        v0, goal = first["value"], t["target_value"]
        if v0 >= goal:
            continue
        lines += [
            {"target_id": target_id, "period": first["period"], "line": v0},
            {"target_id": target_id, "period": deadline, "line": goal},
        ]
    return lines


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def load_data(published_db: Path) -> dict:
    """Everything the page shows, as plain rows, read once from the published marts."""
    with connect(published_db) as con:
        period_list = periods(con)
        latest = latest_period(con) or period_list[-1]
        rows = attainment_rows(con)
        target_rows = _dicts(
            con.execute(
                "SELECT target_id, name_zh, name_en, quote_zh, target_kind, target_value, deadline_period,"
                " cadence, is_city_only FROM dim_target ORDER BY sort_order"
            )
        )
        unit_rows = _dicts(
            con.execute(
                "SELECT district_code, district_name, kind, reports_from, reports_to, successor_code"
                f" FROM dim_district ORDER BY district_code <> '{CITY}', district_code"
            )
        )
        submission_rows = _dicts(
            con.execute(
                f"""
                SELECT district_code, period, submission_status, files_received, files_rejected,
                       files_superseded, current_version, CAST(submitted_date AS VARCHAR) AS submitted_date,
                       is_late, quarantined_rows, last_rejection_reason
                FROM mart_submission_status WHERE district_code <> '{CITY}'
                """
            )
        )

    targets = {}
    for order, t in enumerate(target_rows):  # the document's order (dim_target.sort_order)
        value = None if t["target_value"] is None else float(t["target_value"])
        targets[t["target_id"]] = {
            **t,
            "target_value": value,
            "order": order,
            "target_label": t["name_zh"],
            "target_text": _target_text(value, t["target_kind"], t["deadline_period"], t["cadence"]),
        }
    units = {
        u["district_code"]: {
            **u,
            "unit_label": f"{u['district_name']}（全市）"
            if u["district_code"] == CITY
            else u["district_name"],
        }
        for u in unit_rows
    }
    attainment = [
        {
            "target_id": r["target_id"],
            "district_code": r["district_code"],
            "period": r["period"],
            "status": r["status"],
            "value": None if r["value"] is None else round(r["value"], 5),
            "vt": _value_text(r),
            "vs": _short_value(r["value"], r["target_kind"]),
        }
        for r in rows
    ]
    return {
        "periods": period_list,
        "latest": latest,
        "rows": rows,
        "targets": targets,
        "units": units,
        "datasets": {
            "attainment": attainment,
            "targets": list(targets.values()),
            "units": list(units.values()),
            "submissions": submission_rows,
            "on_track": _on_track_lines(rows, period_list, targets),
        },
    }


# ---- charts -----------------------------------------------------------------------------------------


def _status_scale() -> alt.Scale:
    return alt.Scale(domain=list(STATUSES), range=[STATUS_COLORS[s] for s in STATUSES])


def _status_label_expr() -> str:
    return " : ".join(f"datum.status === '{s}' ? '{STATUS_ZH[s]} {s}'" for s in STATUSES) + " : datum.status"


def _with_names(
    chart: alt.Chart, target_fields: Sequence[str] = (), unit_fields: Sequence[str] = ()
) -> alt.Chart:
    if target_fields:
        chart = chart.transform_lookup(
            lookup="target_id",
            from_=alt.LookupData(data=alt.Data(name="targets"), key="target_id", fields=list(target_fields)),
        )
    if unit_fields:
        chart = chart.transform_lookup(
            lookup="district_code",
            from_=alt.LookupData(data=alt.Data(name="units"), key="district_code", fields=list(unit_fields)),
        )
    return chart


def _attainment_tooltip() -> list[alt.Tooltip]:
    return [
        alt.Tooltip("unit_label:N", title="单位 unit"),
        alt.Tooltip("district_code:N", title="代码 code"),
        alt.Tooltip("name_zh:N", title="目标 target"),
        alt.Tooltip("name_en:N", title="target"),
        alt.Tooltip("period:N", title="报告期 period"),
        alt.Tooltip("vt:N", title="值 value"),
        alt.Tooltip("target_text:N", title="目标 goal"),
        alt.Tooltip("quote_zh:N", title="原文 quote"),
        alt.Tooltip("status_text:N", title="状态 status"),
    ]


def overview_chart(data: dict) -> alt.HConcatChart:
    """Heat map unit × target for the selected period, next to the ranking of units by targets behind."""
    period = alt.param(
        name="period",
        value=data["latest"],
        bind=alt.binding_select(options=data["periods"], name="报告期 period: "),
    )
    # one scale for every period, so that bars compare across periods
    behind: dict[tuple, int] = {}
    for r in data["rows"]:
        if r["district_code"] != CITY and r["status"] in ("missed", "at_risk"):
            key = (r["period"], r["district_code"])
            behind[key] = behind.get(key, 0) + 1
    most_behind = max([*behind.values(), 4])
    base = (
        _with_names(
            alt.Chart(alt.Data(name="attainment")),
            target_fields=["name_zh", "name_en", "quote_zh", "target_label", "target_text"],
            unit_fields=["unit_label"],
        )
        .transform_filter(alt.datum.period == period)
        .transform_calculate(
            missed="datum.status === 'missed' ? 1 : 0",
            at_risk="datum.status === 'at_risk' ? 1 : 0",
            status_text=_status_label_expr(),
        )
        .transform_joinaggregate(missed_n="sum(missed)", at_risk_n="sum(at_risk)", groupby=["district_code"])
        .transform_calculate(
            # the city first, then the units furthest behind: most missed + at risk, then most missed
            rank=f"datum.district_code === '{CITY}' ? 1e6"
            " : (datum.missed_n + datum.at_risk_n) * 100 + datum.missed_n"
        )
    )
    unit_sort = alt.EncodingSortField("rank", op="max", order="descending")
    unit_axis = alt.Y(
        "unit_label:N", title=None, sort=unit_sort, axis=alt.Axis(labelFontSize=12, labelLimit=140)
    )
    unit_rows = alt.Y("unit_label:N", title=None, sort=unit_sort, axis=None)
    heat = (
        base.mark_rect(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(
                "target_label:N",
                title=None,
                # every target, in the document's order, whatever the period (yearly ones are H2 only)
                scale=alt.Scale(domain=[t["target_label"] for t in data["targets"].values()]),
                axis=alt.Axis(orient="top", labelAngle=-50, labelFontSize=11, labelLimit=170),
            ),
            y=unit_axis,
            color=alt.Color("status:N", scale=_status_scale(), legend=None),
            tooltip=_attainment_tooltip(),
        )
        .properties(width=alt.Step(24), height=alt.Step(20))
        .add_params(period)
    )
    ranking_base = base.transform_aggregate(
        missed_n="max(missed_n)", at_risk_n="max(at_risk_n)", groupby=["district_code", "unit_label", "rank"]
    ).transform_calculate(
        # the city's row is the sum of every unit: its counts are told, not drawn against the units'
        is_city=f"datum.district_code === '{CITY}'",
        behind="datum.is_city ? 0 : datum.missed_n + datum.at_risk_n",
        label="(datum.is_city ? '全市 city: ' : '')"
        " + datum.missed_n + ' 未达成 · ' + datum.at_risk_n + ' 滞后'",
    )
    bars = (
        ranking_base.transform_fold(["missed_n", "at_risk_n"], as_=["kind", "n"])
        .transform_calculate(
            status="datum.kind === 'missed_n' ? 'missed' : 'at_risk'", n="datum.is_city ? 0 : datum.n"
        )
        .mark_bar()
        .encode(
            x=alt.X(
                "n:Q",
                stack="zero",
                title="落后目标数 targets missed or at risk",
                scale=alt.Scale(domain=[0, most_behind], nice=False),
                axis=alt.Axis(orient="top", tickMinStep=1, tickCount=min(most_behind, 10), format="d"),
            ),
            y=unit_rows,
            color=alt.Color("status:N", scale=_status_scale(), legend=None),
            order=alt.Order("status:N", sort="descending"),
            tooltip=[
                alt.Tooltip("unit_label:N", title="单位 unit"),
                alt.Tooltip("missed_n:Q", title="未达成 missed"),
                alt.Tooltip("at_risk_n:Q", title="滞后 at risk"),
            ],
        )
    )
    labels = ranking_base.mark_text(align="left", dx=4, fontSize=11, color="#333").encode(
        x="behind:Q", y=unit_rows, text="label:N"
    )
    ranking = alt.layer(bars, labels).properties(width=260, height=alt.Step(20))
    return alt.hconcat(heat, ranking, spacing=6)


def submissions_chart(data: dict) -> alt.Chart:
    """Reporting unit × period: accepted, rejected or missing; late and quarantined rows in the tooltip."""
    base = _with_names(
        alt.Chart(alt.Data(name="submissions")), unit_fields=["unit_label"]
    ).transform_calculate(
        status_text=" : ".join(
            f"datum.submission_status === '{s}' ? '{SUBMISSION_ZH[s]} {s}'" for s in SUBMISSION_COLORS
        )
        + " : datum.submission_status",
        mark="datum.is_late ? '迟' : (datum.files_rejected > 0 ? '✗' + datum.files_rejected : "
        "(datum.current_version > 1 ? 'v' + datum.current_version : ''))",
    )
    x = alt.X(
        "period:N",
        title=None,
        scale=alt.Scale(domain=data["periods"]),
        axis=alt.Axis(orient="top", labelAngle=0),
    )
    y = alt.Y("unit_label:N", title=None, sort=alt.EncodingSortField("district_code", op="min"))
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        x=x,
        y=y,
        color=alt.Color(
            "submission_status:N",
            scale=alt.Scale(domain=list(SUBMISSION_COLORS), range=list(SUBMISSION_COLORS.values())),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("unit_label:N", title="单位 unit"),
            alt.Tooltip("period:N", title="报告期 period"),
            alt.Tooltip("status_text:N", title="报送 submission"),
            alt.Tooltip("current_version:Q", title="版本 version"),
            alt.Tooltip("submitted_date:N", title="填报日期 submitted"),
            alt.Tooltip("is_late:N", title="逾期 late"),
            alt.Tooltip("files_received:Q", title="收到文件 files"),
            alt.Tooltip("files_rejected:Q", title="拒收 rejected"),
            alt.Tooltip("quarantined_rows:Q", title="隔离行 quarantined rows"),
            alt.Tooltip("last_rejection_reason:N", title="拒收原因 reason"),
        ],
    )
    text = base.mark_text(fontSize=11, color="white", fontWeight="bold").encode(x=x, y=y, text="mark:N")
    return alt.layer(rect, text).properties(width=alt.Step(56), height=alt.Step(18))


# Placeholders: a chart is built once per shape and its spec copied with the values put in (Altair
# validates and deep-copies on every build, which takes a second per dozen charts).
TARGET_ID, TITLE, SUBTITLE_EN, SUBTITLE_GOAL, UNIT_CODE = (
    "QJ_TARGET_ID",
    "QJ_TITLE",
    "QJ_SUBTITLE_EN",
    "QJ_SUBTITLE_GOAL",
    "QJ_UNIT_CODE",
)


def _fill(spec: dict, values: dict[str, str]) -> dict:
    """A copy of `spec` with each placeholder (inside its strings) replaced by its value."""
    text = json.dumps(spec, ensure_ascii=False)
    for placeholder, value in values.items():
        text = text.replace(placeholder, json.dumps(value, ensure_ascii=False)[1:-1])
    return json.loads(text)


def _trend_chart(
    periods_: list[str], domain: list[float], fmt: str, goal: bool, on_track: bool, deadline: bool
) -> alt.LayerChart:
    """One target over time (placeholders for the target): units, city, target, deadline, on-track line."""
    x = alt.X(
        "period:N",
        title=None,
        scale=alt.Scale(domain=periods_),
        axis=alt.Axis(labelExpr="slice(datum.value, 2)", labelAngle=0, labelFontSize=9),
    )
    y = alt.Y("value:Q", title=None, scale=alt.Scale(domain=domain, clamp=True), axis=alt.Axis(format=fmt))
    rows = alt.Chart(alt.Data(name="attainment")).transform_filter(
        (alt.datum.target_id == TARGET_ID) & (alt.datum.value != None)  # noqa: E711 (a Vega expression)
    )
    units = rows.transform_filter(alt.datum.district_code != CITY).mark_line(
        color="#9e9e9e", strokeWidth=0.8, opacity=0.35
    )
    units = units.encode(x=x, y=y, detail="district_code:N")
    city = rows.transform_filter(alt.datum.district_code == CITY).transform_calculate(
        status_text=_status_label_expr()
    )
    city_line = city.mark_line(color="#263238", strokeWidth=2.2).encode(x=x, y=y)
    city_points = city.mark_point(filled=True, size=55, opacity=1, stroke="white", strokeWidth=0.8).encode(
        x=x,
        y=y,
        color=alt.Color("status:N", scale=_status_scale(), legend=None),
        tooltip=[
            alt.Tooltip("period:N", title="报告期 period"),
            alt.Tooltip("vt:N", title="全市 city"),
            alt.Tooltip("status_text:N", title="状态 status"),
        ],
    )
    layers = [units, city_line]
    target = alt.Chart(alt.Data(name="targets")).transform_filter(alt.datum.target_id == TARGET_ID)
    if goal:
        layers.append(
            target.mark_rule(color=STATUS_COLORS["achieved"], strokeDash=[6, 3]).encode(y="target_value:Q")
        )
    if on_track:
        layers.append(
            alt.Chart(alt.Data(name="on_track"))
            .transform_filter(alt.datum.target_id == TARGET_ID)
            .mark_line(color=STATUS_COLORS["on_track"], strokeDash=[2, 2], strokeWidth=1.5)
            .encode(x=x, y=alt.Y("line:Q", scale=alt.Scale(domain=domain)))
        )
    if deadline:
        deadline_x = alt.X("deadline_period:N", scale=alt.Scale(domain=periods_))
        layers.append(target.mark_rule(color=STATUS_COLORS["missed"], strokeDash=[4, 3]).encode(x=deadline_x))
        layers.append(
            target.mark_text(color=STATUS_COLORS["missed"], align="right", dx=-3, dy=-4, fontSize=10, y=0)
            .transform_calculate(label="'期限 ' + datum.deadline_period")
            .encode(x=deadline_x, text="label:N")
        )
    layers.append(city_points)
    return alt.layer(*layers).properties(
        width=250,
        height=130,
        title=alt.TitleParams(
            TITLE,
            subtitle=[SUBTITLE_EN, SUBTITLE_GOAL],
            anchor="start",
            fontSize=14,
            subtitleFontSize=10,
            subtitleColor="#555",
        ),
    )


def trends_spec(data: dict) -> dict:
    """Small multiples, one per target, four to a row (a Vega-Lite spec)."""
    on_track = {r["target_id"] for r in data["datasets"]["on_track"]}
    shapes: dict[tuple, dict] = {}
    charts = []
    for target in data["targets"].values():
        target_id, kind = target["target_id"], target["target_kind"]
        domain = [0.0, 1.0]
        if kind == "count":
            values = [
                r["value"] for r in data["rows"] if r["target_id"] == target_id and r["value"] is not None
            ]
            domain = [0.0, round(max([*values, target["target_value"] or 0, 1]) * 1.05, 2)]
        shape = (
            tuple(domain),
            "d" if kind == "count" else ".0%",
            target["target_value"] is not None and kind != "rising",
            target_id in on_track,
            target["deadline_period"] in data["periods"],
        )
        if shape not in shapes:
            shapes[shape] = _sub_spec(_trend_chart(data["periods"], domain, *shape[1:]))
        charts.append(
            _fill(
                shapes[shape],
                {
                    TARGET_ID: target_id,
                    TITLE: target["name_zh"],
                    SUBTITLE_EN: target["name_en"],
                    SUBTITLE_GOAL: target["target_text"],
                },
            )
        )
    rows = [
        {"hconcat": charts[i : i + TRENDS_PER_ROW], "spacing": 28}
        for i in range(0, len(charts), TRENDS_PER_ROW)
    ]
    return _top_level({"vconcat": rows, "spacing": 26})


def unit_chart(code: str, data: dict) -> alt.VConcatChart:
    """One reporting unit: its submissions, then target × period colored by status with the values."""
    x = alt.X(
        "period:N",
        title=None,
        scale=alt.Scale(domain=data["periods"]),
        axis=alt.Axis(orient="top", labelAngle=0),
    )
    label_axis = alt.Axis(minExtent=LABEL_WIDTH, maxExtent=LABEL_WIDTH, labelLimit=LABEL_WIDTH - 10)
    targets_shown = [
        t["target_label"] for t in data["targets"].values() if code == CITY or not t["is_city_only"]
    ]
    cells = _with_names(
        alt.Chart(alt.Data(name="attainment")).transform_filter(alt.datum.district_code == code),
        target_fields=["name_zh", "name_en", "quote_zh", "target_label", "target_text"],
        unit_fields=["unit_label"],
    ).transform_calculate(status_text=_status_label_expr())
    y = alt.Y("target_label:N", title=None, scale=alt.Scale(domain=targets_shown), axis=label_axis)
    cell_x = x.axis(None) if code != CITY else x  # the submission strip above carries the axis
    heat = cells.mark_rect(stroke="white", strokeWidth=1).encode(
        x=cell_x,
        y=y,
        color=alt.Color("status:N", scale=_status_scale(), legend=None),
        tooltip=_attainment_tooltip(),
    )
    text = cells.mark_text(fontSize=10).encode(
        x=cell_x,
        y=y,
        text="vs:N",
        color=alt.condition(
            alt.FieldOneOfPredicate(field="status", oneOf=["at_risk", "no_data"]),
            alt.value("#222"),
            alt.value("white"),
        ),
    )
    parts = []
    if code != CITY:
        sub = alt.Chart(alt.Data(name="submissions")).transform_filter(alt.datum.district_code == code)
        sub = sub.transform_calculate(
            row="'报送 submission'",
            mark="datum.is_late ? '迟 late' : (datum.submission_status === 'accepted' ? "
            "'v' + datum.current_version : datum.submission_status)",
        )
        sub_y = alt.Y("row:N", title=None, axis=label_axis)
        parts.append(
            alt.layer(
                sub.mark_rect(stroke="white", strokeWidth=1).encode(
                    x=x,
                    y=sub_y,
                    color=alt.Color(
                        "submission_status:N",
                        scale=alt.Scale(
                            domain=list(SUBMISSION_COLORS), range=list(SUBMISSION_COLORS.values())
                        ),
                        legend=None,
                    ),
                    tooltip=[
                        alt.Tooltip("period:N", title="报告期 period"),
                        alt.Tooltip("submission_status:N", title="报送 submission"),
                        alt.Tooltip("current_version:Q", title="版本 version"),
                        alt.Tooltip("submitted_date:N", title="填报日期 submitted"),
                        alt.Tooltip("quarantined_rows:Q", title="隔离行 quarantined rows"),
                        alt.Tooltip("last_rejection_reason:N", title="拒收原因 reason"),
                    ],
                ),
                sub.mark_text(fontSize=10, color="white").encode(x=x, y=sub_y, text="mark:N"),
            ).properties(width=alt.Step(52), height=alt.Step(18))
        )
    parts.append(alt.layer(heat, text).properties(width=alt.Step(52), height=alt.Step(18)))
    return alt.vconcat(*parts, spacing=2).resolve_scale(color="independent")


# ---- page -------------------------------------------------------------------------------------------


CSS = """
:root { --ink: #1f2933; --muted: #5f6b76; --line: #e3e7eb; }
* { box-sizing: border-box; }
body { margin: 0; font-family: FONT; color: var(--ink); background: #fafbfc; }
header { background: #8b1a1a; color: white; padding: 18px 28px 14px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: 1px; }
header .en { opacity: .85; font-size: 14px; margin-top: 2px; }
header .meta { opacity: .75; font-size: 12px; margin-top: 6px; }
nav { position: sticky; top: 0; z-index: 5; background: white; border-bottom: 1px solid var(--line);
      padding: 8px 28px; font-size: 14px; }
nav a { margin-right: 18px; color: #8b1a1a; text-decoration: none; }
main { padding: 8px 28px 40px; }
section { background: white; border: 1px solid var(--line); border-radius: 6px; padding: 14px 18px;
          margin: 16px 0; }
h2 { margin: 0 0 2px; font-size: 20px; }
h2 .en, h3 .en { font-weight: normal; color: var(--muted); font-size: 14px; margin-left: 8px; }
h3 { margin: 0 0 4px; font-size: 17px; }
p.note { color: var(--muted); font-size: 12px; margin: 2px 0 10px; }
.headline { font-size: 17px; margin: 6px 0 10px; line-height: 1.5; }
.headline .en { display: block; color: var(--muted); font-size: 13px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 13px; margin: 6px 0 10px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.legend i { display: inline-block; width: 14px; height: 14px; border-radius: 2px; }
.pill { display: inline-block; border-radius: 9px; padding: 0 7px; font-size: 12px; color: white;
        margin-left: 4px; }
.units { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 4px 14px;
         font-size: 13px; margin: 6px 0; }
.units a { color: var(--ink); text-decoration: none; }
.units a:hover { text-decoration: underline; }
.chart { overflow-x: auto; }
.unit-summary { font-size: 13px; margin: 2px 0 8px; }
#qj-errors { color: #c62828; white-space: pre-wrap; }
.vega-embed { display: inline-flex !important; flex-direction: column; }
.vega-embed .vega-bindings { order: -1; }
.vega-bind { font-size: 15px; margin: 4px 0 8px; }
.vega-bind select { font-size: 15px; padding: 2px 6px; }
""".replace("FONT", FONT)

SCRIPT = """
(function () {
  const errors = document.getElementById("qj-errors");
  function fail(where, error) {
    console.error("dashboard chart " + where + " failed:", error);
    errors.textContent += "图表 " + where + " 无法显示 / chart failed: " + error + "\\n";
  }
  const jobs = Object.entries(QJ_SPECS).map(([id, spec]) => {
    spec.datasets = QJ_DATA;
    return vegaEmbed("#" + id, spec, {renderer: "svg", actions: false}).catch((e) => fail(id, e));
  });
  Promise.all(jobs).then((results) => {
    document.body.dataset.chartsRendered = String(results.filter((r) => r !== undefined).length);
    document.body.dataset.chartsExpected = String(jobs.length);
  });
})();
"""


def _json_for_script(value: object) -> str:
    # "<" only occurs inside JSON strings, where \u003c means the same: no "</script>" can end the block
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).replace("<", "\\u003c")


def _legend_html() -> str:
    chips = "".join(
        f'<span><i style="background:{STATUS_COLORS[s]}"></i>{STATUS_ZH[s]} {s.replace("_", " ")}</span>'
        for s in STATUSES
    )
    return f'<div class="legend">{chips}</div>'


def _pill(status: str, n: int) -> str:
    ink = "#222" if status in ("at_risk", "no_data") else "white"
    style = f"background:{STATUS_COLORS[status]};color:{ink}"
    return f'<span class="pill" style="{style}">{n} {STATUS_ZH[status]}</span>'


def _unit_link(code: str, name: str) -> str:
    return f'<a href="#d-{html.escape(code)}">{html.escape(name)}</a>'


def _headline(data: dict, period: str) -> str:
    rows = [r for r in data["rows"] if r["period"] == period]
    ranking = [b for b in behind_ranking(rows) if b.count]
    if not ranking:
        return (
            f'<p class="headline">{period}：没有落后的单位。'
            f'<span class="en">{period}: no reporting unit is behind on any target.</span></p>'
        )
    worst = ranking[0]
    on_what = "、".join(data["targets"][t]["name_zh"] for t in worst.missed + worst.at_risk)
    on_what_en = ", ".join(worst.missed + worst.at_risk)
    return (
        f'<p class="headline">{period} 最落后：{_unit_link(worst.district_code, worst.district_name)}'
        f"（{worst.district_code}）{len(worst.missed)} 项未达成、{len(worst.at_risk)} 项滞后："
        f"{html.escape(on_what)}"
        f'<span class="en">Furthest behind in {period}: {html.escape(worst.district_name)} '
        f"({worst.district_code}), {len(worst.missed)} missed and {len(worst.at_risk)} at risk: "
        f"{html.escape(on_what_en)}</span></p>"
    )


def _unit_index(data: dict, period: str) -> str:
    rows = [r for r in data["rows"] if r["period"] == period]
    items = []
    for b in behind_ranking(rows):
        pills = (_pill("missed", len(b.missed)) if b.missed else "") + (
            _pill("at_risk", len(b.at_risk)) if b.at_risk else ""
        )
        items.append(f"<div>{_unit_link(b.district_code, b.district_name)}{pills}</div>")
    reporting = {b.district_code for b in behind_ranking(rows)}
    for code, unit in data["units"].items():  # the city, and units that do not report in this period
        if code not in reporting:
            items.append(f"<div>{_unit_link(code, unit['unit_label'])}</div>")
    return f'<div class="units">{"".join(items)}</div>'


def _unit_section(code: str, data: dict, period: str) -> str:
    unit = data["units"][code]
    facts = []
    if code == CITY:
        facts.append("全市：各报送单位合计 / the whole city: all reporting units summed")
    else:
        span = f"{unit['reports_from']}–{unit['reports_to'] or ''}"
        kind = KIND_ZH.get(unit["kind"], "")
        facts.append(f"{kind} {unit['kind']}, 报送 reports {span}")
        if unit["successor_code"]:
            successor = (
                data["units"].get(unit["successor_code"], {}).get("district_name", unit["successor_code"])
            )
            facts.append(f"并入 merged into {_unit_link(unit['successor_code'], successor)}")
    rows = [r for r in data["rows"] if r["district_code"] == code and r["period"] == period]
    if rows:
        behind = behind_ranking(rows, include_city=True)[0]
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
        pills = "".join(_pill(s, n) for s, n in counts.items() if n)
        lagging = (
            "、".join(data["targets"][t]["name_zh"] for t in behind.missed + behind.at_risk) or "无 none"
        )
        summary = f"{period}：{pills}<br>落后 behind: {html.escape(lagging)}"
    else:
        summary = f"{period}：本期不报送 / does not report in this period"
    return (
        f'<section id="d-{html.escape(code)}"><h3>{html.escape(unit["unit_label"])} '
        f'<span class="en">{html.escape(code)} · {" · ".join(facts)}</span></h3>'
        f'<div class="unit-summary">{summary}</div><div class="chart" id="chart-d-{html.escape(code)}"></div>'
        f'<p class="note"><a href="#overview">↑ 总览 overview</a></p></section>'
    )


def render_page(data: dict, specs: dict[str, dict], period: str, source: Path) -> str:
    units_ranked = [
        b.district_code for b in behind_ranking([r for r in data["rows"] if r["period"] == period])
    ]
    unit_codes = [CITY, *units_ranked, *(c for c in data["units"] if c != CITY and c not in units_ranked)]
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    published = dt.datetime.fromtimestamp(source.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>强基创先 目标达成情况 · Target attainment dashboard</title>
<style>{CSS}</style>
<script>{vega_bundle()}</script>
</head>
<body>
<header>
  <h1>强基创先 目标达成情况</h1>
  <div class="en">Strengthen the grassroots, strive for excellence — target attainment,
  津党办发[2006]28号 (2006–2010)</div>
  <div class="meta">数据 data: {html.escape(source.name)}（发布于 published {published}）·
  生成于 generated {generated}</div>
</header>
<nav><a href="#overview">总览 overview</a><a href="#submissions">报送情况 submissions</a>
<a href="#trends">趋势 trends</a><a href="#units">各单位 units</a></nav>
<main>
<div id="qj-errors"></div>
<section id="overview">
  <h2>各单位目标达成<span class="en">Attainment by reporting unit and target</span></h2>
  {_headline(data, period)}
  <p class="note">每行一个报送单位，按落后目标数排序（未达成优先）；右侧条形为未达成与滞后目标数。
  选择报告期查看历史。年度目标只在下半年（H2）有值。/ One row per reporting unit, furthest behind first
  (missed counts most); the bars count missed and at-risk targets. Pick a period to look back.
  Yearly targets have values on H2 periods only.</p>
  {_legend_html()}
  <div class="chart" id="chart-overview"></div>
</section>
<section id="submissions">
  <h2>报送情况<span class="en">Submission status</span></h2>
  <p class="note">绿色已接收，红色被拒收（无可用版本），灰色未报送；
  “迟”为逾期报送，“v2”为第二版，“✗n”为被拒收文件数。
  / Green accepted, red rejected (no accepted version), grey missing; 迟 = late, v2 = a second version,
  ✗n = files rejected. Hover for details.</p>
  <div class="chart" id="chart-submissions"></div>
</section>
<section id="trends">
  <h2>各目标趋势<span class="en">How each target moves toward its deadline</span></h2>
  <p class="note">黑线为全市（圆点颜色为状态），灰线为各单位；绿色虚线为目标，红色虚线为期限，
  蓝色点线为全市按进度线。/ Black: the whole city (dots colored by status); grey: each reporting unit;
  green dashes: the target; red dashes: the deadline; blue dots: the city's on-track line.</p>
  {_legend_html()}
  <div class="chart" id="chart-trends"></div>
</section>
<section id="units">
  <h2>各单位<span class="en">Reporting units</span></h2>
  <p class="note">{period} 按落后程度排序 / ranked by targets behind in {period}.
  点击进入 / click for the unit's page.</p>
  {_unit_index(data, period)}
</section>
{"".join(_unit_section(code, data, period) for code in unit_codes)}
</main>
<script>
const QJ_DATA = {_json_for_script(data["datasets"])};
const QJ_SPECS = {_json_for_script(specs)};
{SCRIPT}
</script>
</body>
</html>
"""


def _sub_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite dict of a chart without its data: every spec shares the page's QJ_DATA."""
    spec = chart.to_dict()
    for key in ("$schema", "config", "datasets"):
        spec.pop(key, None)
    return spec


def _top_level(spec: dict) -> dict:
    config = {"font": FONT, "view": {"stroke": None, "continuousWidth": 300, "continuousHeight": 300}}
    return {"$schema": alt.SCHEMA_URL, "config": config, **spec}


def _spec(chart: alt.TopLevelMixin) -> dict:
    return _top_level(_sub_spec(chart))


def build_dashboard(published_db: Path, out: Path, *, period: str | None = None) -> Path:
    """Write the dashboard of `published_db` to `out` (atomically: temp file + rename); returns `out`.

    `period` is the one shown first (and in the headline and unit summaries); default the latest with data.
    """
    published_db, out = Path(published_db), Path(out)
    data = load_data(published_db)
    period = period or data["latest"]
    if period not in data["periods"]:
        raise ReportError(f"unknown period {period!r}: one of {data['periods'][0]}..{data['periods'][-1]}")
    data["latest"] = period
    specs = {
        "chart-overview": _spec(overview_chart(data)),
        "chart-submissions": _spec(submissions_chart(data)),
        "chart-trends": trends_spec(data),
        f"chart-d-{CITY}": _spec(unit_chart(CITY, data)),
    }
    unit_template = _spec(unit_chart(UNIT_CODE, data))
    for code in data["units"]:
        if code != CITY:
            specs[f"chart-d-{code}"] = _fill(unit_template, {UNIT_CODE: code})
    page = render_page(data, specs, period, published_db)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out
