"""The dashboard's HTML page: one static, offline file around the chart specs.

`render_page(data, specs, period, source)` writes the header, navigation, headline, legends, the index
and a section per reporting unit, with the CSS, the data and specs as JSON and the script that embeds
every chart with vega-embed; Vega, Vega-Lite and vega-embed are inlined (`vega_bundle`, from
vl-convert-python's bundle), so the page needs no network.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import json
import os
from pathlib import Path

from reporting.dashboard.charts import FONT
from reporting.report import CITY, STATUS_COLORS, STATUS_ZH, STATUSES, behind_ranking
from warehouse.files import write_text_into_place

KIND_ZH = {"district": "区", "county": "县", "system": "市级系统"}


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script (from vl-convert-python; no network).

    vl-convert bundles it anew on every call (≈ 1.5 s of every dashboard); the same versions give the
    same script, so it is kept in the user's cache folder, named by those versions, and made again
    only when it is missing or cannot be read (or written: then every run makes it, as before).
    """
    import vl_convert as vlc
    from altair.vegalite import SCHEMA_VERSION

    vl_version = "_".join(SCHEMA_VERSION.split(".")[:2])
    cached = _cache_folder() / f"vega-bundle-{vlc.__version__}-vl{vl_version}.js"
    try:
        return cached.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    bundle = vlc.javascript_bundle(vl_version=vl_version)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_text_into_place(cached, bundle)  # a reader never sees half a script
    return bundle


def _cache_folder() -> Path:
    """`$XDG_CACHE_HOME/qiangji`, by default `~/.cache/qiangji`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qiangji"


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
    // a heat-map cell's link (its gap list) opens in this tab: the browser's back button returns
    const options = {renderer: "svg", actions: false, loader: {target: "_self"}};
    return vegaEmbed("#" + id, spec, options).catch((e) => fail(id, e));
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
  <p class="note">绿色已接收，红色被拒收（无可用版本），黄色待重读，灰色未报送；
  “迟”为逾期报送，“v2”为第二版，“✗n”为被拒收文件数。
  / Green accepted, red rejected (no accepted version), amber pending (read again by the next run),
  grey missing; 迟 = late, v2 = a second version, ✗n = files rejected. Hover for details.</p>
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
