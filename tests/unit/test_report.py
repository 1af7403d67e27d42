"""`qiangji report`: rows, formats (table, csv, json) and usage errors, on a small published DuckDB."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from reporting.report import (
    COLUMNS,
    ReportError,
    attainment_report,
    behind_ranking,
    format_csv,
    format_json,
    render_table,
)
from tests.support.cli import run_cli
from warehouse.reference import seeds_dir

PERIODS = ["2007H1", "2007H2", "2008H1"]
UNITS = [
    ("120104", "南开区", "district", "2006H1", None, None),
    ("120107", "塘沽区", "district", "2006H1", "2009H2", "120116"),
    ("XT01", "市国资委党委", "system", "2006H1", None, None),
    ("120000", "天津市", "city", None, None, None),
]
TARGETS = [
    ("village_venue", "Every village has a venue", "2年内全部解决…", "share", 1.0, "2007H2", "period", False),
    ("dev_female", "Women among new members", "…女党员…41.5%", "share", 0.415, "2010H2", "period", False),
    ("dev_ballot", "Ballot admissions rise", "逐步推行发展党员票决制", "rising", None, None, "year", False),
    ("community_demo_sites", "50 demo sites", "五年内培育出50个…", "count", 50, "2010H2", "period", True),
]
# (target, unit, period, numerator, denominator, value, status)
ATTAINMENT = [
    ("village_venue", "120104", "2007H1", 2, 3, 2 / 3, "at_risk"),
    ("village_venue", "120107", "2007H1", 3, 3, 1.0, "achieved"),
    ("village_venue", "XT01", "2007H1", None, None, None, "no_data"),
    ("village_venue", "120000", "2007H1", 5, 6, 5 / 6, "on_track"),
    ("village_venue", "120104", "2007H2", 2, 3, 2 / 3, "missed"),
    ("village_venue", "120107", "2007H2", 3, 3, 1.0, "achieved"),
    ("village_venue", "XT01", "2007H2", None, None, None, "no_data"),
    ("village_venue", "120000", "2007H2", 5, 6, 5 / 6, "missed"),
    ("dev_female", "120104", "2007H2", 1, 4, 0.25, "at_risk"),
    ("dev_female", "120107", "2007H2", 2, 4, 0.5, "achieved"),
    ("dev_female", "XT01", "2007H2", 0, 2, 0.0, "at_risk"),
    ("dev_female", "120000", "2007H2", 3, 10, 0.3, "at_risk"),
    ("dev_ballot", "120104", "2007H2", 1, 2, 0.5, "missed"),
    ("dev_ballot", "120107", "2007H2", 2, 2, 1.0, "achieved"),
    ("dev_ballot", "XT01", "2007H2", 0, 1, 0.0, "missed"),
    ("dev_ballot", "120000", "2007H2", 3, 5, 0.6, "achieved"),
    ("community_demo_sites", "120000", "2007H2", 7, None, 7.0, "on_track"),
    # a period with rows but nothing accepted yet: not "the latest with data"
    ("village_venue", "120104", "2008H1", None, None, None, "no_data"),
    ("village_venue", "120000", "2008H1", None, None, None, "no_data"),
]


SEEDS = seeds_dir()


def _current_version(d: str, p: str) -> tuple:
    return (f"{d}_{p}", 1, f"{d}_{p}.xlsx", None, None, False, 0, None, None)


def make_published(path: Path) -> Path:
    """A published marts.duckdb with the tables and columns `qiangji report` and the dashboard read."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE dim_period (period VARCHAR, year INTEGER, half INTEGER, period_index INTEGER,"
            " start_date DATE, end_date DATE)"
        )
        for i, p in enumerate(PERIODS):
            year, half = int(p[:4]), int(p[-1])
            start, end = (
                (f"{year}-01-01", f"{year}-06-30") if half == 1 else (f"{year}-07-01", f"{year}-12-31")
            )
            con.execute("INSERT INTO dim_period VALUES (?, ?, ?, ?, ?, ?)", [p, year, half, i, start, end])
        con.execute(
            "CREATE TABLE dim_district (district_code VARCHAR, district_name VARCHAR, kind VARCHAR,"
            " reports_from VARCHAR, reports_to VARCHAR, successor_code VARCHAR)"
        )
        con.executemany("INSERT INTO dim_district VALUES (?, ?, ?, ?, ?, ?)", UNITS)
        con.execute(
            "CREATE TABLE dim_target (target_id VARCHAR, name_en VARCHAR, quote_zh VARCHAR,"
            " target_kind VARCHAR, target_value DECIMAL(9, 4), deadline_period VARCHAR, cadence VARCHAR,"
            " is_city_only BOOLEAN)"
        )
        con.executemany("INSERT INTO dim_target VALUES (?, ?, ?, ?, ?, ?, ?, ?)", TARGETS)
        # the short Chinese names and the document's order come from the targets seed, as in dbt
        con.execute("ALTER TABLE dim_target ADD COLUMN sort_order INTEGER")
        con.execute("ALTER TABLE dim_target ADD COLUMN name_zh VARCHAR")
        con.execute(
            "UPDATE dim_target SET sort_order = s.sort_order, name_zh = s.name_zh FROM read_csv(?) s"
            " WHERE dim_target.target_id = s.target_id",
            [str(SEEDS / "targets.csv")],
        )
        con.execute(
            "CREATE TABLE mart_target_attainment (target_id VARCHAR, district_code VARCHAR, period VARCHAR,"
            " numerator BIGINT, denominator BIGINT, value DOUBLE, target_value DECIMAL(9, 4),"
            " target_kind VARCHAR, deadline_period VARCHAR, status VARCHAR, current_district_code VARCHAR)"
        )
        targets = {t[0]: t for t in TARGETS}
        con.executemany(
            "INSERT INTO mart_target_attainment VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (t, d, p, n, q, v, targets[t][4], targets[t][3], targets[t][5], s, d)
                for t, d, p, n, q, v, s in ATTAINMENT
            ],
        )
        con.execute(
            "CREATE TABLE mart_submission_status (district_code VARCHAR, period VARCHAR,"
            " submission_status VARCHAR, files_received BIGINT, files_rejected BIGINT,"
            " files_superseded BIGINT, current_submission_id VARCHAR, current_version INTEGER,"
            " current_file_name VARCHAR,"
            " submitted_date DATE, due_date DATE, is_late BOOLEAN, quarantined_rows BIGINT,"
            " last_received_at TIMESTAMP, last_rejection_reason VARCHAR)"
        )
        con.executemany(
            "INSERT INTO mart_submission_status VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (d, p, *(("accepted", 1) if d != "XT01" else ("missing", 0)), 0, 0, *_current_version(d, p))
                for d, *_ in UNITS[:3]
                for p in PERIODS
            ],
        )
    return path


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return make_published(tmp_path / "marts.duckdb")


def test_the_default_period_is_the_latest_with_data(published):
    report = attainment_report(published)
    assert report.period == "2007H2"  # 2008H1 has rows, all no_data
    assert {r["period"] for r in report.rows} == {"2007H2"}
    # the city first, then the units by code; targets in the document's order
    assert [r["district_code"] for r in report.rows][:4] == ["120000"] * 4
    assert [r["target_id"] for r in report.rows if r["district_code"] == "120000"] == [
        "village_venue",
        "community_demo_sites",
        "dev_female",
        "dev_ballot",
    ]
    assert [r["district_code"] for r in report.rows][4:] == ["120104"] * 3 + ["120107"] * 3 + ["XT01"] * 3


def test_one_unit_by_code_or_name(published):
    by_name = attainment_report(published, period="2007H1", district="南开区")
    by_code = attainment_report(published, period="2007H1", district="120104")
    assert by_name == by_code
    assert by_name.district == "120104"
    [row] = by_name.rows
    assert row["status"] == "at_risk" and row["target_name_zh"] == "村级活动场所"


def test_unknown_period_or_unit_is_a_usage_error(published):
    with pytest.raises(ReportError, match="2011H1"):
        attainment_report(published, period="2011H1")
    with pytest.raises(ReportError, match="和平"):
        attainment_report(published, district="和平区")
    with pytest.raises(FileNotFoundError):
        attainment_report(published.with_name("missing.duckdb"))


def test_csv_has_every_column_and_raw_numbers(published):
    text = format_csv(attainment_report(published).rows)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == 13
    xt01 = next(r for r in rows if r["district_code"] == "XT01" and r["target_id"] == "dev_female")
    assert xt01 == {
        "period": "2007H2",
        "district_code": "XT01",
        "district_name": "市国资委党委",
        "target_id": "dev_female",
        "target_name_zh": "发展女党员",
        "target_name_en": "Women among new members",
        "target_kind": "share",
        "numerator": "0",
        "denominator": "2",
        "value": "0.0",
        "target_value": "0.415",
        "deadline_period": "2010H2",
        "cadence": "period",
        "status": "at_risk",
    }
    rising = next(r for r in rows if r["district_code"] == "120104" and r["target_id"] == "dev_ballot")
    assert rising["target_value"] == "" and rising["deadline_period"] == ""


def test_json_is_an_array_of_rows(published):
    rows = json.loads(format_json(attainment_report(published, district="120000").rows))
    assert [r["target_id"] for r in rows] == [
        "village_venue",
        "community_demo_sites",
        "dev_female",
        "dev_ballot",
    ]
    assert all(list(r) == list(COLUMNS) for r in rows)
    demo = rows[1]
    assert demo["value"] == 7.0 and demo["target_value"] == 50.0 and demo["denominator"] is None
    assert rows[0]["value"] == pytest.approx(5 / 6) and rows[0]["status"] == "missed"
    assert "天津市" in format_json(rows)  # Chinese is kept, not \u-escaped


def test_table_colors_statuses_and_names_who_is_behind(published):
    console = Console(
        width=200, record=True, force_terminal=True, color_system="standard", file=io.StringIO()
    )
    console.print(render_table(attainment_report(published)))
    text = console.export_text(clear=False)
    assert "target attainment, 2007H2" in text
    assert "66.7%" in text and "41.5%" in text and "逐年提高 rising" in text and "≥" not in text
    assert "每年 every year" in text  # dev_ballot is yearly
    for status in ("未达成 missed", "滞后 at_risk", "达成 achieved", "按进度 on_track"):
        assert status in text
    # units with the most missed + at-risk targets first: 南开区 (1 missed, 1 at risk + 1 missed), XT01
    behind = text[text.index("furthest behind") :]
    assert behind.index("南开区") < behind.index("市国资委党委")
    assert "塘沽区" not in behind  # nothing behind
    styled = console.export_text(styles=True)
    assert "\x1b[1;31m未达成 missed" in styled  # bold red
    assert "\x1b[33m滞后 at_risk" in styled  # yellow


def test_behind_ranking_orders_by_count_then_missed():
    rows = [
        {"district_code": "A", "district_name": "a", "target_id": "t1", "status": "at_risk"},
        {"district_code": "A", "district_name": "a", "target_id": "t2", "status": "at_risk"},
        {"district_code": "B", "district_name": "b", "target_id": "t1", "status": "missed"},
        {"district_code": "B", "district_name": "b", "target_id": "t2", "status": "at_risk"},
        {"district_code": "C", "district_name": "c", "target_id": "t1", "status": "achieved"},
        {"district_code": "120000", "district_name": "天津市", "target_id": "t1", "status": "missed"},
    ]
    ranking = behind_ranking(rows)
    assert [b.district_code for b in ranking] == ["B", "A", "C"]
    assert ranking[0].missed == ["t1"] and ranking[0].at_risk == ["t2"] and ranking[2].count == 0


def test_cli_formats_and_exit_codes(published, tmp_path):
    home = tmp_path / "home"
    (home / "published").mkdir(parents=True)
    published.rename(home / "published" / "marts.duckdb")
    result = run_cli("report", "--home", str(home), "--format", "csv", "--period", "2007H1")
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS)
    assert len(result.stdout.splitlines()) == 1 + 4
    rows = json.loads(run_cli("report", "--home", str(home), "--format", "json", "--district", "XT01").stdout)
    assert {r["status"] for r in rows} == {"no_data", "at_risk", "missed"}
    table = run_cli("report", "--home", str(home)).stdout
    assert "南开区 120104" in table and "未达成 missed" in table
    assert run_cli("report", "--home", str(home), "--period", "1999H1", check=False).returncode == 2
    assert run_cli("report", "--home", str(home), "--format", "xml", check=False).returncode == 2
    missing = run_cli("report", "--home", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 2 and "qiangji run" in missing.stderr  # a missing input: a setup error
