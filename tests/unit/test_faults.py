"""`generate --faults`: every planted defect is reported where the manifest says, and nothing else."""

from __future__ import annotations

import csv
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from generator import generate_submissions
from generator.faults import FAULTS_DIR, FILES_FILE, MANIFEST_COLUMNS, MANIFEST_FILE, NOT_PLANTED
from ingest.errors import RULES
from ingest.precheck import CheckReport, check_path
from ingest.settings import IngestSettings
from tests.support.builders import minimal_sheets, write_xlsx

SCALE = 0.0005
PERIOD = "2010H1"
SEED = 7
Key = tuple[str | None, int | None, str | None, str, str]  # sheet, row, column, rule, severity


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate_submissions(out, PERIOD, PERIOD, scale=SCALE, seed=SEED, faults=True)
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def manifest(out: Path) -> list[dict[str, str]]:
    return _read(out / FAULTS_DIR / MANIFEST_FILE)


@pytest.fixture(scope="module")
def files(out: Path) -> dict[str, dict[str, str]]:
    return {f["file"]: f for f in _read(out / FAULTS_DIR / FILES_FILE)}


@pytest.fixture(scope="module")
def reports(out: Path, files: dict[str, dict[str, str]]) -> dict[str, CheckReport]:
    settings = IngestSettings()  # the defaults, whatever the environment says
    return {name: check_path(out / FAULTS_DIR / name, settings) for name in files}


def _key(line: dict[str, str]) -> Key:
    return (
        line["sheet"] or None,
        int(line["row"]) if line["row"] else None,
        line["column"] or None,
        line["rule"],
        line["severity"],
    )


def test_the_manifests_list_every_file(out: Path, manifest, files) -> None:
    with open(out / FAULTS_DIR / MANIFEST_FILE, encoding="utf-8") as f:
        assert next(csv.reader(f)) == list(MANIFEST_COLUMNS)
    written = {p.name for p in (out / FAULTS_DIR).iterdir()} - {MANIFEST_FILE, FILES_FILE}
    assert written == set(files)
    assert {line["file"] for line in manifest} <= set(files)
    assert all(line["rule"] in RULES for line in manifest)
    outcomes = Counter(f["outcome"] for f in files.values())
    assert outcomes["accepted"] >= 8 and outcomes["rejected"] >= 15
    assert not any(p.name.startswith(FAULTS_DIR) for p in out.glob("*.xlsx"))  # the valid files stay valid


def test_every_problem_is_reported_where_the_manifest_says_and_nothing_else(manifest, files, reports) -> None:
    mismatches = []
    for name in files:
        expected = Counter(
            _key(line) for line in manifest if line["file"] == name and line["severity"] != "structural"
        )
        found = Counter(
            reports[name].problems.select("sheet", "row", "column", "rule", "severity").iter_rows()
        )
        if expected != found:
            mismatches.append(f"{name}: not reported {expected - found}, not planted {found - expected}")
    assert not mismatches, "\n".join(mismatches)


def test_rejected_files_are_rejected_with_the_manifest_rule(manifest, files, reports) -> None:
    for name, file in files.items():
        structural = [
            _key(line) for line in manifest if line["file"] == name and line["severity"] == "structural"
        ]
        report = reports[name]
        if file["outcome"] == "accepted":
            assert report.accepted and not structural, (name, report.structural)
            continue
        assert len(structural) == 1, name
        assert report.structural is not None, name
        p = report.structural
        assert (p.sheet, p.row, p.column, p.rule, p.severity) == structural[0], name


def test_accepted_files_quarantine_exactly_the_planted_rows(manifest, files, reports) -> None:
    quarantined = 0
    for name, file in files.items():
        if file["outcome"] != "accepted":
            continue
        rows = {
            (line["sheet"], line["row"])
            for line in manifest
            if line["file"] == name and line["severity"] == "row"
        }
        assert reports[name].quarantined == len(rows), name
        quarantined += len(rows)
    assert quarantined > 100


def test_every_rule_of_a_single_file_is_planted(manifest) -> None:
    assert set(NOT_PLANTED) <= set(RULES)
    assert set(RULES) - set(NOT_PLANTED) <= {line["rule"] for line in manifest}


def test_containers_and_encodings(out: Path, files, reports) -> None:
    zips = [n for n in files if n.endswith(".zip") and files[n]["outcome"] == "accepted"]
    encodings = set()
    for name in zips:
        with zipfile.ZipFile(out / FAULTS_DIR / name) as archive:
            info = next(i for i in archive.infolist() if i.filename.endswith(".csv"))
            data = archive.read(info)
            if info.flag_bits & 0x800:
                assert "/" in info.filename and data.startswith(b"\xef\xbb\xbf")  # a top folder, a BOM
                encodings.add("utf-8")
            else:
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")
                data.decode("gb18030")
                encodings.add("gb18030")
        assert reports[name].accepted and reports[name].rows["members"] > 0
    assert encodings == {"utf-8", "gb18030"}
    assert any(n.endswith(".XLSX") for n in files)


def test_deterministic_through_the_cli_and_the_default_output_unchanged(out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    args = ["generate", "--out", str(again), "--periods", PERIOD, "--scale", str(SCALE), "--seed", str(SEED)]
    result = CliRunner().invoke(app, [*args, "--faults"])
    assert result.exit_code == 0, result.output
    assert "faulty files" in result.output
    for path in (out / FAULTS_DIR).iterdir():
        assert path.read_bytes() == (again / FAULTS_DIR / path.name).read_bytes(), path.name

    plain = tmp_path / "plain"
    generate_submissions(plain, PERIOD, PERIOD, scale=SCALE, seed=SEED)
    assert not (plain / FAULTS_DIR).exists()
    valid = sorted(p.name for p in out.iterdir() if p.is_file())
    assert valid == sorted(p.name for p in plain.iterdir())
    for name in valid:
        assert (out / name).read_bytes() == (plain / name).read_bytes(), name


def _empty_unit_codes(sheets: dict) -> None:
    for row in sheets["单位"][1:3]:
        row["单位编码"] = None


@pytest.mark.parametrize(
    ("change", "expected"),
    [  # the validator fixes the fault files found, on hand-made samples
        (_empty_unit_codes, {("单位", 3, "单位编码", "required"), ("单位", 4, "单位编码", "required")}),
        (lambda s: s["单位"][3].update(职工人数="12.5"), {("单位", 5, "职工人数", "integer_format")}),
        (lambda s: s["培训"][0].update(活动编号=None), {("培训", 2, "活动编号", "required")}),
    ],
    ids=["empty keys are not duplicates", "unreadable, not missing", "empty activity is required"],
)
def test_one_message_per_bad_cell(tmp_path: Path, change, expected) -> None:
    sheets = minimal_sheets()
    change(sheets)
    path = write_xlsx(tmp_path / "120104_2007H1.xlsx", sheets)
    report = check_path(path, IngestSettings(quarantine_share=1.0))
    assert set(report.problems.select("sheet", "row", "column", "rule").iter_rows()) == expected


def test_the_ground_truth_goes_beside_the_landing_folder_or_to_truth_never_into_it(tmp_path: Path) -> None:
    args = ["generate", "--periods", PERIOD, "--scale", str(SCALE), "--seed", str(SEED)]
    landing = tmp_path / "demo" / "landing"
    result = CliRunner().invoke(app, [*args, "--out", str(landing)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "ground_truth.csv").is_file()
    assert all(p.suffix == ".xlsx" for p in landing.iterdir())  # the landing folder: submissions only

    elsewhere = tmp_path / "truth" / "t.csv"
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "l2"), "--truth", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert elsewhere.is_file() and not (tmp_path / "ground_truth.csv").exists()

    inside = CliRunner().invoke(app, [*args, "--out", str(landing), "--truth", str(landing / "truth.csv")])
    assert inside.exit_code == 2 and not (landing / "truth.csv").exists()
