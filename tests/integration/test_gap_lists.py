"""The gap lists where people look: `qiangji report --gaps` (json, xlsx), one workbook per reporting
unit for the district offices, and the dashboard's gap view — each agreeing with the attainment
mart (shortfalls add up to denominator − numerator) and opened as a person would."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import openpyxl
import pytest

from reporting.dashboard.gap_pages import section_id, write_gap_pages
from reporting.gaps import GAP_COLUMNS, write_gap_workbooks
from tests.integration.test_dashboard import chromium, requires_chromium
from tests.support.cli import run_cli

NO_DENOMINATOR = ("community_demo_sites",)  # a count: nothing can fall short of it item by item


@pytest.fixture(scope="module")
def gap_home(pipeline_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("gap_home")
    (home / "published").mkdir()
    shutil.copy(pipeline_home / "published" / "marts.duckdb", home / "published" / "marts.duckdb")
    return home


def _marts(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "published" / "marts.duckdb"), read_only=True)


def _missing(home: Path, period: str | None = None) -> dict[tuple[str, str, str], int]:
    """denominator − numerator of every attainment row with a denominator (the gap scope)."""
    with _marts(home) as con:
        rows = con.execute(
            "SELECT district_code, target_id, period, denominator - numerator FROM mart_target_attainment"
            " WHERE denominator IS NOT NULL AND numerator IS NOT NULL AND ($p IS NULL OR period = $p)",
            {"p": period},
        ).fetchall()
    return {(d, t, p): int(n) for d, t, p, n in rows if t not in NO_DENOMINATOR}


def test_report_gaps_as_json_adds_up_to_the_attainment_mart(gap_home: Path):
    result = run_cli("report", "--home", str(gap_home), "--gaps", "--format", "json")
    rows = json.loads(result.stdout)
    assert rows and set(rows[0]) == set(GAP_COLUMNS)
    period = rows[0]["period"]
    assert {r["period"] for r in rows} == {period}  # the latest period with data
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in rows:
        totals[(r["district_code"], r["target_id"], r["period"])] += r["shortfall"]
    expected = {key: n for key, n in _missing(gap_home, period).items() if n}
    assert dict(totals) == expected
    one = run_cli(
        "report", "--home", str(gap_home), "--gaps", "--format", "json", "--target", "npe50_org",
        "--district", "南开区", "--period", period,
    )  # fmt: skip
    assert {(r["target_id"], r["district_code"]) for r in json.loads(one.stdout)} <= {("npe50_org", "120104")}
    bad = run_cli("report", "--home", str(gap_home), "--gaps", "--target", "nonsense", check=False)
    assert bad.returncode == 2 and "unknown target" in bad.stderr


def test_report_gaps_as_xlsx_opens_with_chinese_headers_filters_and_a_summary(gap_home: Path, tmp_path: Path):
    out = tmp_path / "gaps.xlsx"
    result = run_cli("report", "--home", str(gap_home), "--gaps", "--format", "xlsx", "--out", str(out))
    assert result.stdout.strip() == str(out)
    rows = json.loads(run_cli("report", "--home", str(gap_home), "--gaps", "--format", "json").stdout)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["汇总", "缺口清单"]
    sheet = book["缺口清单"]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["报告期", "填报单位代码", "目标编号"]  # the published comments' Chinese labels
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in headers)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row - 1 == len(rows)
    summary = book["汇总"]
    total = sum(r[3] for r in summary.iter_rows(min_row=4, values_only=True) if r[3] is not None)
    assert total == sum(r["shortfall"] for r in rows)


def test_each_reporting_unit_gets_its_workbook_and_page(gap_home: Path, tmp_path: Path):
    published = gap_home / "published" / "marts.duckdb"
    books = write_gap_workbooks(published, tmp_path / "gaps")
    pages = write_gap_pages(published, tmp_path / "gaps")
    with _marts(gap_home) as con:
        found = con.execute("SELECT DISTINCT district_code FROM mart_target_attainment").fetchall()
    units = {code for (code,) in found}
    assert {p.stem for p in pages} == units
    assert {p.name.split("_")[0] for p in books} == units
    missing = _missing(gap_home)
    nankai = next(p for p in books if p.name.startswith("120104_"))
    listed = openpyxl.load_workbook(nankai)["缺口清单"]
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    header = [c.value for c in listed[1]]
    at = {name: header.index(label) for name, label in (("t", "目标编号"), ("p", "报告期"), ("n", "缺口数"))}
    for row in listed.iter_rows(min_row=2, values_only=True):
        totals[("120104", row[at["t"]], row[at["p"]])] += row[at["n"]]
    assert dict(totals) == {k: n for k, n in missing.items() if k[0] == "120104" and n}
    page = (tmp_path / "gaps" / "120104.html").read_text(encoding="utf-8")
    for district, target, period in missing:
        if district == "120104":
            assert f"id='{section_id(target, period)}'" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


# Put at the end of a copy of the dashboard: once the heat map is drawn, click its first cell as a
# person would (Vega follows a mark's href by clicking an anchor of its own).
CLICK_FIRST_CELL = """<script>
(function click() {
  const cell = document.querySelector('#chart-overview path[aria-roledescription="rect mark"]');
  if (!cell) { setTimeout(click, 100); return; }
  const box = cell.getBoundingClientRect();
  const at = {bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2};
  cell.dispatchEvent(new MouseEvent("click", at));
})();
</script>"""


@requires_chromium
def test_a_heat_map_cell_opens_its_gap_list(gap_home: Path, tmp_path: Path):
    run_cli("report", "--home", str(gap_home), "--format", "html")
    dashboard = gap_home / "published" / "dashboard.html"
    result = chromium(tmp_path / "profile", "--dump-dom", dashboard.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    overview = dom[dom.index('id="chart-overview"') : dom.index('id="submissions"')]
    links = set(re.findall(r"gap_href: (gaps/[^\"; ]+)", html.unescape(overview)))
    assert len(links) > 20, "the heat map's cells carry no link"
    for link in sorted(links):  # every link leads to a page and a section that exist
        page, anchor = link.split("#")
        assert f"id='{anchor}'" in (dashboard.parent / page).read_text(encoding="utf-8"), link
    # a click on a cell opens its list
    clicked = dashboard.with_name("clicked.html")
    page_text = dashboard.read_text(encoding="utf-8")
    end = page_text.rindex("</body>")  # the inlined Vega bundle holds the string "</body>" too
    clicked.write_text(page_text[:end] + CLICK_FIRST_CELL + page_text[end:], encoding="utf-8")
    opened = chromium(tmp_path / "profile2", "--dump-dom", clicked.as_uri()).stdout
    # the city's row comes first: the first cell opens the city's gap list, in the same tab
    assert "<h1>天津市 120000 — 缺口清单 gap list</h1>" in opened, opened[:300]
    # a unit's list shows what adds up to its denominator − numerator
    missing = _missing(gap_home)
    district, target, period = next(k for k, n in sorted(missing.items()) if n and k[0] != "120000")
    page = dashboard.parent / "gaps" / f"{district}.html"
    shown = chromium(tmp_path / "profile3", "--dump-dom", page.as_uri()).stdout
    section = shown.split(f'id="{section_id(target, period)}"')[1].split("<h3")[0]
    shortfalls = [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', section)]
    assert sum(shortfalls) == missing[(district, target, period)]
