"""`qiangji run` on a few hand-made submissions: cross-district duplicates, docs, descriptions."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.project import dbt_executable
from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import ROOT, run_cli


@pytest.fixture(scope="module")
def handmade_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("handmade_landing")
    home = tmp_path_factory.mktemp("handmade_home")
    a = minimal_sheets("120104", "2007H1")
    b = minimal_sheets("120105", "2007H1")  # the same three members, registered by two districts
    b["党员"].pop(2)  # … all but one of them
    write_xlsx(landing / "120104_2007H1.xlsx", a)
    write_xlsx(landing / "120105_2007H1.xlsx", b)
    run_cli("run", "--home", str(home), "--landing", str(landing))
    return home


def test_cross_district_duplicates_are_reported_not_rejected(handmade_home: Path):
    with duckdb.connect(str(handmade_home / "warehouse.duckdb"), read_only=True) as con:
        statuses = con.execute("SELECT district_code, status FROM raw.submissions ORDER BY 1").fetchall()
        pairs = con.execute(
            "SELECT period, district_code, other_district_code, duplicate_members"
            " FROM main.mart_cross_district_duplicates ORDER BY district_code"
        ).fetchall()
        counted = con.execute(
            "SELECT district_code, count(*) FROM main.fct_member_snapshot GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert statuses == [("120104", "accepted"), ("120105", "accepted")]
    assert pairs == [("2007H1", "120104", "120105", 2), ("2007H1", "120105", "120104", 2)]
    assert counted == [("120104", 3), ("120105", 2)]  # counted where they appear


def test_dbt_docs_generate_describes_every_mart_column(handmade_home: Path, tmp_path: Path):
    env = {
        **os.environ,
        "QIANGJI_WAREHOUSE": str(handmade_home / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    project = ROOT / "dbt_project"
    subprocess.run(
        [dbt_executable(), "docs", "generate", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(tmp_path), "--quiet"],
        check=True, env=env, cwd=project,
    )  # fmt: skip
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    marts = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith("mart_")
    }
    assert "mart_target_attainment" in marts and len(marts) >= 5
    for name, node in marts.items():
        assert node["description"], name
        built = catalog["nodes"][node["unique_id"]]["columns"]
        for column in built:
            described = node["columns"].get(column, {}).get("description")
            assert described, f"{name}.{column} has no description"
