"""The dashboard's charts: Altair (Vega-Lite) specs over the named datasets of `data.load_data`.

- `overview_chart`: heat map reporting unit × target for the period picked in a selector, next to the
  ranking of units by missed and at-risk targets;
- `submissions_chart`: the submission status of every unit and period;
- `trends_spec`: one small trend chart per target (city, units, target, deadline, on-track line);
- `unit_chart`: one reporting unit, its submissions and target × period.

Charts carry no data (`_sub_spec`); `_spec`/`_top_level` add the schema and the shared config, and
charts of the same shape are built once and filled in from placeholders (`_fill`). Also the status
scale, labels and tooltips they share, and the font and colors the page uses too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt

from reporting.report import CITY, STATUS_COLORS, STATUS_ZH, STATUSES

FONT = (
    '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    "sans-serif"
)
SUBMISSION_COLORS = {"accepted": "#2e7d32", "rejected": "#c62828", "pending": "#f9a825", "missing": "#c4c4c4"}
SUBMISSION_ZH = {"accepted": "已接收", "rejected": "被拒收", "pending": "待重读", "missing": "未报送"}
LABEL_WIDTH = 190  # px reserved for the target labels, so stacked charts line up
TRENDS_PER_ROW = 4


# Where a cell's click leads: the unit's gap page, at the target and period (gap_pages.section_id).
GAP_HREF = "'gaps/' + datum.district_code + '.html#g-' + datum.target_id + '-' + datum.period"


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
            gap_href=GAP_HREF,
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
        base.mark_rect(stroke="white", strokeWidth=1, cursor="pointer")
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
            href="gap_href:N",  # a click opens what falls short (reporting/dashboard/gap_pages.py)
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
    """Reporting unit × period: accepted, rejected, pending (the server stopped its reading: tried
    again) or missing; late and quarantined rows in the tooltip."""
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
    ).transform_calculate(status_text=_status_label_expr(), gap_href=GAP_HREF)
    y = alt.Y("target_label:N", title=None, scale=alt.Scale(domain=targets_shown), axis=label_axis)
    cell_x = x.axis(None) if code != CITY else x  # the submission strip above carries the axis
    heat = cells.mark_rect(stroke="white", strokeWidth=1, cursor="pointer").encode(
        x=cell_x,
        y=y,
        color=alt.Color("status:N", scale=_status_scale(), legend=None),
        tooltip=_attainment_tooltip(),
        href="gap_href:N",
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
