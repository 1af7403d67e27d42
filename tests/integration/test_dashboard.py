"""The attainment dashboard, built by `qiangji report --format html` from a real pipeline run, in a real
headless browser: it renders offline with no console error, the heat map shows every reporting unit of
the period with the color of its status, and a screenshot is kept in tests/artifacts/dashboard.png.

The browser tests need Debian's chromium and a CJK font; CI installs them with
    apt-get install -y chromium fonts-wqy-microhei
and without chromium they are skipped.
"""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from reporting.dashboard import build_dashboard
from reporting.report import CITY, STATUS_COLORS, STATUSES, target_labels
from tests.support.cli import ROOT, run_cli

ARTIFACTS = ROOT / "tests" / "artifacts"  # git-ignored
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
requires_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: apt-get install -y chromium fonts-wqy-microhei",
)
# Headless, quiet, and without network: a name lookup fails, so anything fetched from a CDN would break.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=10000",
)
# Put in front of the page's scripts (in a copy): console errors and warnings become recognizable lines
# of chromium's log, which does not say a message's level.
CONSOLE_PROBE = """<script>
for (const level of ["error", "warn"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => original("QJ-CONSOLE-" + level.toUpperCase() + ": " + args.join(" "));
}
</script>"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def dashboard_home(pipeline_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a copy of the published marts of the pipeline run (its own folder stays untouched)."""
    home = tmp_path_factory.mktemp("dashboard_home")
    (home / "published").mkdir()
    shutil.copy(pipeline_home / "published" / "marts.duckdb", home / "published" / "marts.duckdb")
    return home


@pytest.fixture(scope="module")
def dashboard(dashboard_home: Path) -> Path:
    result = run_cli("report", "--home", str(dashboard_home), "--format", "html")
    out = dashboard_home / "published" / "dashboard.html"
    assert result.stdout.strip() == str(out.resolve())
    return out


@pytest.fixture(scope="module")
def latest(dashboard_home: Path) -> tuple[str, set[tuple[str, str, str]]]:
    """The latest period with data and its (unit label, target label, status) cells, from the marts."""
    with duckdb.connect(str(dashboard_home / "published" / "marts.duckdb"), read_only=True) as con:
        [(period,)] = con.execute(
            "SELECT max(period) FROM mart_target_attainment WHERE status <> 'no_data'"
        ).fetchall()
        rows = con.execute(
            "SELECT a.district_code, d.district_name, a.target_id, a.status FROM mart_target_attainment a"
            " JOIN dim_district d USING (district_code) WHERE a.period = ?",
            [period],
        ).fetchall()
        labels = target_labels(con)
    cells = {
        (f"{name}（全市）" if code == CITY else name, labels[target], status)
        for code, name, target, status in rows
    }
    return period, cells


def test_the_dashboard_is_one_small_offline_file(dashboard: Path, dashboard_home: Path, tmp_path: Path):
    page = dashboard.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "vegaEmbed" in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)  # everything inline
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert dashboard.stat().st_size < 5_000_000
    assert not list(dashboard.parent.glob(".*.partial"))
    # rebuilt in a few seconds (most of it is bundling Vega once per process), atomically replaced
    start = time.monotonic()
    again = build_dashboard(dashboard_home / "published" / "marts.duckdb", tmp_path / "dashboard.html")
    elapsed = time.monotonic() - start
    print(f"dashboard: {dashboard.stat().st_size / 1e6:.2f} MB, built in {elapsed:.1f} s")
    assert elapsed < 30
    assert again.read_text(encoding="utf-8").count('<section id="d-') == page.count('<section id="d-')


@requires_chromium
def test_it_renders_every_unit_without_console_errors(dashboard: Path, latest, tmp_path: Path):
    period, expected_cells = latest
    probed = tmp_path / "dashboard.html"
    probed.write_text(
        dashboard.read_text(encoding="utf-8").replace("<head>", "<head>" + CONSOLE_PROBE, 1), encoding="utf-8"
    )
    result = chromium(tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", probed.as_uri())
    assert result.returncode == 0, result.stderr[-3000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    problems = [line for line in console if "QJ-CONSOLE-" in line or '"Uncaught' in line]
    assert not problems, "\n".join(problems)

    dom = result.stdout
    rendered = re.search(r'<body data-charts-rendered="(\d+)" data-charts-expected="(\d+)"', dom)
    assert rendered, "the charts did not finish rendering within the virtual time budget"
    assert rendered.group(1) == rendered.group(2) and int(rendered.group(2)) > 3
    assert re.search(r'<div id="qj-errors">\s*</div>', dom)

    overview = dom[dom.index('id="chart-overview"') : dom.index('id="submissions"')]
    assert "<select" in overview and f'<option value="{period}"' in overview  # the period selector
    cells = set()
    for label, fill in re.findall(
        r'<path aria-label="([^"]*)"[^>]*aria-roledescription="rect mark"[^>]*fill="([^"]+)"', overview
    ):
        fields = dict(part.split(": ", 1) for part in html.unescape(label).split("; ") if ": " in part)
        if "target_label" in fields:  # a heat-map cell (not a ranking bar)
            assert fill == STATUS_COLORS[fields["status"]], fields
            cells.add((fields["unit_label"], fields["target_label"], fields["status"]))
    assert cells == expected_cells
    units = {unit for unit, _, _ in expected_cells}
    assert len(units) > 20  # every reporting unit of the period and the city
    texts = set(re.findall(r"<text[^>]*>([^<]+)</text>", overview))
    assert units <= texts  # and each has its row label
    assert {status for _, _, status in cells} <= set(STATUSES)


@requires_chromium
def test_screenshot_is_kept(dashboard: Path, tmp_path: Path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTIFACTS / "dashboard.png"
    png.unlink(missing_ok=True)
    result = chromium(
        tmp_path / "profile", f"--screenshot={png}", "--window-size=1400,2000", dashboard.as_uri()
    )
    assert result.returncode == 0 and png.is_file(), result.stderr[-3000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1400, 2000)
    assert len(data) > 100_000  # charts, not a blank page
    print(f"screenshot: {png}")
