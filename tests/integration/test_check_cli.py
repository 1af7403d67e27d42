"""`qiangji check`: the clerk's pre-check as a command, with its exit codes and JSON."""

from __future__ import annotations

import json

from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import run_cli


def test_a_good_file_passes_and_is_named(tmp_path):
    path = write_xlsx(tmp_path / "120104_2007H1.xlsx", minimal_sheets())
    result = run_cli("check", str(path), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "120104_2007H1.xlsx" in result.stdout and "would be accepted" in result.stdout


def test_mistakes_are_located_in_both_languages(tmp_path):
    sheets = minimal_sheets()
    sheets["党员"][1]["学历"] = "小学"  # 1 of 3 rows: over the 5% share, so the file is rejected
    bad = write_xlsx(tmp_path / "120104_2007H1.xlsx", sheets)
    good = write_xlsx(tmp_path / "120104_2007H2.xlsx", minimal_sheets(period="2007H2"))
    result = run_cli("check", str(good), str(bad), check=False)
    assert result.returncode == 1
    out = result.stdout
    assert "sheet 党员, row 3, column 学历" in out
    assert "不是允许的代码值" in out and "not one of the accepted codes" in out
    assert "would be REJECTED" in out


def test_json_output(tmp_path):
    sheets = minimal_sheets()
    sheets["单位"][1]["所属党组织编码"] = "NOPE"  # only a warning
    path = write_xlsx(tmp_path / "120104_2007H1.xlsx", sheets)
    result = run_cli("check", "--format", "json", str(path), check=False)
    assert result.returncode == 0
    [report] = json.loads(result.stdout)
    assert report["accepted"] is True
    [problem] = report["problems"]
    assert problem["rule"] == "dangling_covering_org" and problem["row"] == 3 and problem["file"] == path.name
    assert problem["message_en"].startswith("covering organization")


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("check", check=False).returncode == 2
    assert run_cli("check", "--format", "xml", str(tmp_path), check=False).returncode == 2
