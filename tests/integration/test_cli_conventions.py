"""The conventions every `qiangji` command follows (issue #17): help that shows its defaults, its
environment variables and its brackets; one table of exit codes (cli/exit_codes.py); messages on
stderr through the `qiangji` logger; `qiangji run --format json`.

Most of it in-process (typer's CliRunner, no run started); one real `qiangji run` (module-scoped)
over three hand-made files answers every question about a run's JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.app import app
from cli.console import Verbosity, log, setup_logging
from cli.exit_codes import ExitCode, run_exit_code
from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import QIANGJI, ROOT, TEST_KEY, cli_env, run_cli

COMMANDS = ["generate", "prepare", "run", "export-raw", "check", "dev", "report", "rebuild", "template"]
HOME_COMMANDS = ["run", "export-raw", "dev", "report", "rebuild", "template"]
NO_KEY = {"QIANGJI_PSEUDONYM_KEY": "", "QIANGJI_PSEUDONYM_KEY_FILE": "", "QIANGJI_DEMO": ""}
STRAY = "张三_120106198503150017.xlsx"  # a clerk's own name for a file: a name and an ID in it


def invoke(*args: str, env: dict[str, str] | None = None):
    """`qiangji ARGS` in-process; stdout and stderr apart."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


# --- help ------------------------------------------------------------------------------------------


def test_every_command_is_covered_here():
    assert sorted(typer.main.get_command(app).commands) == sorted(COMMANDS)  # type: ignore[attr-defined]
    shown = invoke("--help").stdout
    assert all(command in shown for command in COMMANDS)
    assert "--verbose" in shown and "--quiet" in shown and "3 the run failed" in shown


@pytest.mark.parametrize("command", COMMANDS)
def test_help_renders_with_defaults_and_envvars(command: str):
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # click wraps at the width
    if command in HOME_COMMANDS:
        assert "--home" in text and "[env var: QIANGJI_HOME; default: data]" in text
    if command in ("run", "dev", "rebuild"):
        assert "[env var: QIANGJI_LANDING; default: (<home>/landing)]" in text
        assert "[env var: QIANGJI_DEMO]" in text
    if command in ("generate", "dev", "check", "report", "run", "export-raw"):
        assert "[default: " in text


def test_report_help_keeps_its_brackets_in_a_real_process():
    result = run_cli("report", "--help", env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    assert "[default: (the latest period with data)]" in text
    assert "[default: (every unit and the city)]" in text
    assert "<table|csv|json|html|xlsx>" in text and "[default: table]" in text


# --- exit codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_option_exits_2(command: str):
    assert invoke(command, "--no-such-option").exit_code == ExitCode.USAGE


def test_a_value_outside_the_choices_exits_2(tmp_path: Path):
    assert invoke("report", "--home", str(tmp_path), "--format", "xml").exit_code == 2
    assert invoke("check", "--format", "xml", str(tmp_path)).exit_code == 2
    assert invoke("run", "--home", str(tmp_path), "--format", "yaml").exit_code == 2
    assert invoke("generate", "--out", str(tmp_path), "--periods", "2006H1-2099H9").exit_code == 2
    assert invoke("-v", "-q", "report").exit_code == 2


def test_a_missing_input_exits_2_everywhere(tmp_path: Path):
    nowhere = tmp_path / "nowhere"
    cases = {
        "check": invoke("check", str(nowhere / "120104_2007H1.xlsx")),
        "report": invoke("report", "--home", str(nowhere)),
        "export-raw": invoke("export-raw", "--home", str(nowhere)),
        "rebuild": invoke("rebuild", "--home", str(nowhere), env={"QIANGJI_PSEUDONYM_KEY": TEST_KEY}),
        "run": invoke("run", "--home", str(nowhere), env={"QIANGJI_PSEUDONYM_KEY": TEST_KEY}),
    }
    assert {c: r.exit_code for c, r in cases.items()} == dict.fromkeys(cases, ExitCode.USAGE)
    said = {c: r.stderr for c, r in cases.items()}
    assert "no such file or folder" in said["check"]
    assert "no published marts" in said["report"] and "qiangji run" in said["report"]
    assert "no warehouse" in said["export-raw"] and "no archive" in said["rebuild"]
    assert "no landing folder" in said["run"]
    assert all(s.startswith("error: ") for s in said.values()), said
    assert not nowhere.exists()  # refused before anything was made


def test_run_without_a_key_exits_2(tmp_path: Path):
    result = invoke("run", "--home", str(tmp_path), env=NO_KEY)
    assert result.exit_code == ExitCode.USAGE and "no pseudonymization key" in result.stderr
    # --demo reads QIANGJI_DEMO: with it, the key is no longer what is missing
    demo = invoke("run", "--home", str(tmp_path / "h"), env={**NO_KEY, "QIANGJI_DEMO": "1"})
    assert demo.exit_code == ExitCode.USAGE and "no landing folder" in demo.stderr


def test_report_reads_qiangji_home_and_messages_are_not_markup(tmp_path: Path):
    home = tmp_path / "home[red]x[/red]"
    result = invoke("report", env={"QIANGJI_HOME": str(home)})
    assert result.exit_code == ExitCode.USAGE
    assert f"no published marts at {home}/published/marts.duckdb" in " ".join(result.stderr.split())


def test_check_exits_1_on_a_file_it_would_reject_and_0_on_a_good_one(tmp_path: Path):
    good = write_xlsx(tmp_path / "120104_2007H1.xlsx", minimal_sheets())
    sheets = minimal_sheets(period="2007H2")
    sheets["党员"][1]["学历"] = "小学"  # 1 of 3 rows: over the 5% share
    bad = write_xlsx(tmp_path / "120104_2007H2.xlsx", sheets)
    assert invoke("check", str(good)).exit_code == ExitCode.DONE
    assert invoke("check", "--format", "json", str(good), str(bad)).exit_code == ExitCode.BAD_DATA


# --- logging ---------------------------------------------------------------------------------------


def test_quiet_shows_errors_only_and_verbose_debug_too(capsys: pytest.CaptureFixture[str]):
    def said(level: Verbosity) -> str:
        setup_logging(level)
        log.debug("d-line")
        log.info("i-line")
        log.warning("w-line")
        log.error("e-line")
        return capsys.readouterr().err

    try:
        assert said(Verbosity.QUIET) == "error: e-line\n"
        assert said(Verbosity.NORMAL) == "i-line\nwarning: w-line\nerror: e-line\n"
        assert said(Verbosity.VERBOSE) == "debug: d-line\ni-line\nwarning: w-line\nerror: e-line\n"
        assert capsys.readouterr().out == ""
    finally:
        setup_logging(Verbosity.NORMAL)
    assert [type(h).__name__ for h in log.handlers].count("_StderrHandler") == 1  # replaced, not added


def test_quiet_still_shows_the_error_of_a_command():
    result = invoke("-q", "report", "--home", "/nonexistent/qiangji")
    assert result.exit_code == ExitCode.USAGE and result.stderr.startswith("error: no published marts")


# --- a run's outcome → its exit code and JSON --------------------------------------------------------


def test_a_run_exits_0_only_when_it_published():
    assert run_exit_code(success=True, published=True) == ExitCode.DONE == 0
    assert run_exit_code(success=True, published=False) == ExitCode.RUN_FAILED == 3
    assert run_exit_code(success=False, published=False) == ExitCode.RUN_FAILED
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("success", "published", "said"),
    [(True, False, "this run published nothing"), (False, False, "the run failed at warehouse_models")],
)
def test_a_run_that_published_nothing_or_failed_exits_3_with_its_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, success: bool, published: bool, said: str
):
    import orchestration.runner
    from cli.run import RunFormat, run_configured
    from orchestration.runner import FailedCheck, RunOutcome
    from warehouse.layout import HomeLayout

    outcome = RunOutcome(
        run_id="r1",
        job_name="load_and_refresh",
        success=success,
        published=published,
        failed_steps=[] if success else ["warehouse_models"],
        files={"received": 2, "accepted": 1, "rejected": 1},
        quarantined_rows=4,
        checks_failed=[FailedCheck("mart_target_attainment", "not_null_x", "ERROR")],
        waiting=["＊＊_120106********0017.xlsx"],
    )
    monkeypatch.setattr(orchestration.runner, "run_pipeline", lambda *a, **k: outcome)
    with pytest.raises(typer.Exit) as ended:
        run_configured(HomeLayout.at(tmp_path), output_format=RunFormat.json)
    assert ended.value.exit_code == ExitCode.RUN_FAILED
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["exit_code"] == 3 and summary["success"] is success and summary["published"] is False
    assert summary["files"] == {
        "received": 2,
        "accepted": 1,
        "rejected": 1,
        "superseded": 0,
        "unchanged": 0,
        "pending": 0,
    }
    assert summary["quarantined_rows"] == 4 and summary["waiting"] == outcome.waiting
    assert summary["checks_failed"] == [
        {"asset": "mart_target_attainment", "check": "not_null_x", "severity": "ERROR"}
    ]
    assert summary["where"]["published_database"] is None  # nothing was ever published here
    assert said in err and "1 blocking checks failed: not_null_x" in err


# --- one real run ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess, set[str]]:
    """`qiangji run --format json` with neither --home nor --landing (QIANGJI_HOME names the home) over
    a good file, a rejected one and a stray name; the home, the process and the names and IDs of the
    files."""
    home = tmp_path_factory.mktemp("conventions") / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    good = minimal_sheets("120104", "2007H1")
    bad = minimal_sheets("120105", "2007H1")
    bad["党员"][1]["学历"] = "小学"  # over the share of bad rows: rejected
    write_xlsx(landing / "120104_2007H1.xlsx", good)
    write_xlsx(landing / "120105_2007H1.xlsx", bad)
    (landing / STRAY).write_bytes(b"not a workbook")
    secrets = {"张三", "120106198503150017"}
    for sheets in (good, bad):
        for rows in sheets.values():
            for row in rows:
                secrets |= {str(v) for k, v in row.items() if k in ("公民身份号码", "姓名")}
    done = subprocess.run(
        [QIANGJI, "run", "--format", "json"],
        cwd=ROOT,
        env=cli_env(QIANGJI_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    return home, done, secrets


def test_run_json_is_the_only_thing_on_stdout(json_run):
    _, done, _ = json_run
    assert done.returncode == ExitCode.DONE, done.stderr[-3000:]  # a rejected file is no failure
    summary = json.loads(done.stdout)  # stdout is the JSON and nothing else
    assert summary["exit_code"] == 0 and summary["success"] is True and summary["published"] is True
    assert summary["run_id"] and summary["job"] == "qiangji_pipeline"
    # not a terminal: short progress lines on stderr, not Dagster's log format
    assert re.search(r"^\[\d+:\d\d\] (dbt build \d+/\d+|publishing)$", done.stderr, re.M), done.stderr[-3000:]
    assert " - INFO - " not in done.stderr


def test_run_json_says_where_and_what(json_run):
    home, done, _ = json_run
    summary = json.loads(done.stdout)
    published = home.resolve() / "published"  # QIANGJI_HOME was honoured
    assert summary["where"] == {
        "published_database": str(published / "marts.duckdb"),
        "dashboard": str(published / "dashboard.html"),
        "parquet": str(published / "parquet"),
        "csv": str(published / "csv"),
        "data_docs": str(home.resolve() / "quality" / "data_docs"),
    }
    assert summary["files"] == {
        "received": 3,
        "accepted": 1,
        "rejected": 2,
        "superseded": 0,
        "unchanged": 0,
        "pending": 0,
    }
    # the marts count files per reporting unit and period: the stray name has neither
    assert summary["files_in_warehouse"] == {"received": 2, "rejected": 1, "superseded": 0, "pending": 0}
    failed = {(c["asset"], c["check"]) for c in summary["checks_failed"]}
    assert {("submission", "no_submission_rejected"), ("submission", "rows_pass_pandera")} <= failed
    assert all(c["severity"] == "WARN" for c in summary["checks_failed"])
    assert summary["failed_steps"] == [] and summary["waiting"] == []
    assert "checks failed as warnings" in done.stderr


def test_run_json_holds_no_name_or_id(json_run):
    _, done, secrets = json_run
    leaked = sorted(s for s in secrets if s and s in done.stdout)
    assert not leaked


def test_report_reads_the_home_from_qiangji_home(json_run):
    home, _, _ = json_run
    shown = run_cli("report", "--format", "json", env={"QIANGJI_HOME": str(home)})
    assert {r["district_code"] for r in json.loads(shown.stdout)} >= {"120104"}
    assert "QIANGJI_HOME" not in os.environ  # what the commands set stays in their processes
