"""The synthetic submission generator: real files, read back with fastexcel, checked against the spec."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from ingest import identity, spec
from ingest.generate import DEFAULT_SCALE, GenerationSummary, generate_submissions
from ingest.reference import code_values as code_list

SCALE = 0.002
SEED = 2006
PERIODS = ("2009H2", "2010H1")
READ_DTYPES = {"date": "date", "int": "int", "number": "float"}
Generated = tuple[Path, GenerationSummary, list[tuple[int, int]]]  # out dir, summary, progress calls
CODE_COLUMNS = {c.name: c.code_list for s in spec.SHEETS for c in s.columns if c.code_list}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("generated")
    calls: list[tuple[int, int]] = []
    summary = generate_submissions(
        out, PERIODS[0], PERIODS[1], scale=SCALE, seed=SEED, progress=lambda d, n: calls.append((d, n))
    )
    return out, summary, calls


def _reporting_units(period: str) -> set[str]:
    with (Path(__file__).parents[2] / "dbt_project/seeds/reporting_units.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        r["unit_code"]
        for r in rows
        if r["reports_from"] <= period and (not r["reports_to"] or period <= r["reports_to"])
    }


def _read(path: Path) -> tuple[list[list], dict[str, pl.DataFrame]]:
    reader = fastexcel.read_excel(path)
    assert reader.sheet_names == [s.name for s in spec.SHEETS]
    cover = reader.load_sheet_by_name(spec.COVER.name, header_row=None).to_polars().rows()
    sheets = {}
    for sheet in spec.DATA_SHEETS:
        dtypes = {c.header: READ_DTYPES.get(c.dtype, "string") for c in sheet.columns}
        frame = reader.load_sheet_by_name(sheet.name, dtypes=dtypes, dtype_coercion="strict").to_polars()
        assert frame.columns == [c.header for c in sheet.columns], sheet.name
        sheets[sheet.alias] = frame.rename({c.header: c.name for c in sheet.columns})
    return cover, sheets


def _day(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _eighteenth(birth: dt.date) -> dt.date:
    if (birth.month, birth.day) == (2, 29):
        return dt.date(birth.year + 18, 3, 1)
    return birth.replace(year=birth.year + 18)


def _check_submission(path: Path) -> dict[str, pl.DataFrame]:
    """Every rule of the format the generator promises to keep."""
    district, period = path.stem.split("_")
    year, half = int(period[:4]), int(period[5])
    p_start = dt.date(year, 1 if half == 1 else 7, 1)
    p_end = dt.date(year, 6, 30) if half == 1 else dt.date(year, 12, 31)
    cover, s = _read(path)
    assert [r[0] for r in cover] == [c.header for c in spec.COVER.columns]
    assert cover[0][1] == district and cover[1][1] == period
    submitted = fastexcel.read_excel(path).load_sheet_by_name(
        spec.COVER.name, header_row=None, skip_rows=2, n_rows=1
    )
    assert _day(submitted.to_polars().item(0, 1)) > p_end  # a real date cell

    for alias, frame in s.items():
        for name, list_name in CODE_COLUMNS.items():
            if name in frame.columns:
                values = set(frame[name].drop_nulls().to_list())
                assert values <= set(code_list(list_name)), (alias, name, values - set(code_list(list_name)))

    units, orgs, members = s["units"], s["organizations"], s["members"]
    org_codes = set(orgs["org_code"])
    assert units["unit_code"].is_unique().all() and orgs["org_code"].is_unique().all()
    assert all(
        c.startswith(f"{district}-") for c in units["unit_code"].to_list() + orgs["org_code"].to_list()
    )
    committee_type = "系统党委" if district.startswith("XT") else "区县党委"
    committees = units.filter(pl.col("unit_type").is_in(["区县党委", "系统党委"]))
    assert committees["unit_type"].to_list() == [committee_type]
    committee = committees["covering_org_code"].item()
    root = orgs.filter(pl.col("parent_org_code").is_null())
    assert root["org_code"].to_list() == [committee] and root["org_type"].item() == "党委"
    assert set(units["covering_org_code"].drop_nulls()) <= org_codes
    assert set(orgs["parent_org_code"].drop_nulls()) <= org_codes
    assert all(_day(d) <= p_end for d in orgs["established_date"])
    enterprises = units.filter(
        pl.col("unit_type").is_in(["国有独资企业", "国有控股企业", "非公有制企业", "社会组织"])
    )
    assert enterprises["employee_count"].null_count() == 0 and (enterprises["employee_count"] >= 0).all()
    two_new = units.filter(pl.col("unit_type").is_in(["非公有制企业", "社会组织"]))
    assert two_new["member_count"].null_count() == 0
    assert (units["cross_appointed"] <= units["board_members"]).fill_null(True).all()
    for col in ("is_high_tech", "has_venue", "is_demo_site", "has_instructor"):
        assert set(units[col].drop_nulls()) <= {"是", "否"}

    ids = members["national_id"].to_list()
    assert len(set(ids)) == len(ids)
    assert set(members["org_code"]) <= org_codes
    for nid, gender, birth, join, full, status in members.select(
        "national_id", "gender", "birth_date", "join_date", "full_member_date", "member_status"
    ).iter_rows():
        assert identity.is_valid_id(nid), nid
        assert (int(nid[16]) % 2 == 1) == (gender == "男")
        birth, join = _day(birth), _day(join)
        assert nid[6:14] == birth.strftime("%Y%m%d")
        assert _eighteenth(birth) <= join <= p_end
        assert (full is None) == (status == "预备党员")
        assert full is None or _day(full) >= join

    adm = s["admissions"].join(members, on="national_id", how="left")
    assert adm["national_id"].is_unique().all() and adm["gender"].null_count() == 0
    for admitted, application, activist, join, status in adm.select(
        "admission_date", "application_date", "activist_date", "join_date", "member_status"
    ).iter_rows():
        assert p_start <= _day(admitted) <= p_end and _day(join) == _day(admitted)
        assert _day(application) <= _day(activist) <= _day(admitted) and status == "预备党员"

    acts = s["activities"]
    assert acts["activity_id"].is_unique().all() and set(acts["org_code"]) <= org_codes
    for start, end in acts.select("start_date", "end_date").iter_rows():
        assert p_start <= _day(start) <= _day(end) <= p_end
    training = s["training"].join(acts, on="activity_id", how="left")
    assert (training["activity_type"] == "集中培训").all()
    assert set(training["national_id"]) <= set(ids)
    assert training.select("activity_id", "national_id").is_unique().all()
    length = (training["end_date"] - training["start_date"]).dt.total_days() + 1
    assert ((training["days"] > 0) & (training["days"] <= length)).all()
    return s


def test_file_names_and_progress(generated: Generated) -> None:
    out, summary, calls = generated
    expected = {f"{code}_{p}.xlsx" for p in PERIODS for code in _reporting_units(p)}
    assert {p.name for p in summary.files} == expected == {p.name for p in out.glob("*.xlsx")}
    assert "120116_2009H2.xlsx" not in expected and "120116_2010H1.xlsx" in expected
    assert "120107_2009H2.xlsx" in expected and "120107_2010H1.xlsx" not in expected
    assert calls == [(i, len(expected)) for i in range(1, len(expected) + 1)]
    assert summary.ground_truth_path == out / "ground_truth.csv"
    assert 0 < DEFAULT_SCALE < 0.05


def _figures(sheets: dict[str, pl.DataFrame]) -> dict[str, tuple[int, int]]:
    """The three targets of one file, recomputed here from what was written (targets.md)."""
    units, acts = sheets["units"], sheets["activities"]
    villages = units.filter(pl.col("unit_type") == "行政村")
    committee = units.filter(pl.col("unit_type").is_in(["区县党委", "系统党委"]))["covering_org_code"].item()
    meetings = acts.filter(
        (pl.col("activity_type") == "党委会")
        & (pl.col("org_code") == committee)
        & pl.col("topic").str.contains("强基创先").fill_null(False)
    )
    admitted = sheets["admissions"].join(sheets["members"], on="national_id")
    return {
        "village_venue": ((villages["has_venue"] == "是").sum(), villages.height),
        "halfyear_committee_meeting": (int(meetings.height > 0), 1),
        "dev_female": ((admitted["gender"] == "女").sum(), admitted.height),
    }


def test_every_file_keeps_the_format_and_the_ground_truth_agrees(generated: Generated) -> None:
    _, summary, _ = generated
    members = 0
    ids_by_period: dict[str, list[str]] = {}
    figures: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for path in summary.files:
        district, period = path.stem.split("_")
        sheets = _check_submission(path)
        members += sheets["members"].height
        ids_by_period.setdefault(period, []).extend(sheets["members"]["national_id"])
        figures[(district, period)] = _figures(sheets)
    assert members == summary.members
    for ids in ids_by_period.values():  # no cross-district duplicates
        assert len(ids) == len(set(ids))

    expected: dict[tuple[str, str, str], tuple[int, int]] = {}
    for target in ("village_venue", "halfyear_committee_meeting", "dev_female"):
        running: dict[str, tuple[int, int]] = {}  # dev_female adds up from the first period
        for period in PERIODS:
            rows = {d: f[target] for (d, p), f in figures.items() if p == period}
            rows["120000"] = (sum(n for n, _ in rows.values()), sum(d for _, d in rows.values()))
            for district, (num, den) in rows.items():
                if target == "dev_female":
                    before = running.get(district, (0, 0))
                    num, den = running[district] = (before[0] + num, before[1] + den)
                expected[(target, district, period)] = (num, den)
    truth = pl.read_csv(summary.ground_truth_path, schema_overrides={"district_code": pl.String})
    assert {(t, d, p): (n, m) for t, d, p, n, m in truth.iter_rows()} == expected


def test_entities_persist_and_pass_to_the_successor(
    generated: Generated,
) -> None:
    out, _, _ = generated
    before, after = _read(out / "120104_2009H2.xlsx")[1], _read(out / "120104_2010H1.xlsx")[1]
    assert set(before["units"]["unit_code"]) <= set(after["units"]["unit_code"])
    assert set(before["organizations"]["org_code"]) <= set(after["organizations"]["org_code"])
    stayed = set(before["members"]["national_id"]) & set(after["members"]["national_id"])
    assert len(stayed) > 0.9 * before["members"].height
    old = set().union(
        *(
            _read(out / f"{c}_2009H2.xlsx")[1]["members"]["national_id"]
            for c in ("120107", "120108", "120109")
        )
    )
    merged = _read(out / "120116_2010H1.xlsx")[1]
    assert len(old & set(merged["members"]["national_id"])) > 0.9 * len(old)
    # the predecessors' committees become working committees under 滨海新区's committee
    roots = merged["organizations"].filter(pl.col("parent_org_code") == "120116-O000000")
    assert (roots["org_type"] == "党工委").sum() >= 3


def test_ground_truth_rows(generated: Generated) -> None:
    _, summary, _ = generated
    truth = pl.read_csv(summary.ground_truth_path, schema_overrides={"district_code": pl.String})
    assert truth.columns == ["target_id", "district_code", "period", "numerator", "denominator"]
    targets = {"village_venue", "dev_female", "halfyear_committee_meeting"}
    assert set(truth["target_id"]) == targets
    for period in PERIODS:
        for target in targets:
            rows = truth.filter((pl.col("period") == period) & (pl.col("target_id") == target))
            assert set(rows["district_code"]) == _reporting_units(period) | {"120000"}
            units = rows.filter(pl.col("district_code") != "120000")
            city = rows.filter(pl.col("district_code") == "120000")
            if target != "dev_female":
                assert city["numerator"].item() == units["numerator"].sum()
                assert city["denominator"].item() == units["denominator"].sum()
    assert (truth["numerator"] <= truth["denominator"]).all()
    meeting = truth.filter(
        (pl.col("target_id") == "halfyear_committee_meeting") & (pl.col("period") == PERIODS[1])
    )
    assert meeting["denominator"].to_list() == [1] * (meeting.height - 1) + [meeting.height - 1]


def test_deterministic(generated: Generated, tmp_path: Path) -> None:
    out, _, _ = generated
    # the same seed gives the same bytes, and a period does not depend on the periods after it
    again = generate_submissions(tmp_path / "again", PERIODS[0], PERIODS[0], scale=SCALE, seed=SEED)
    assert again.files
    for path in again.files:
        assert path.read_bytes() == (out / path.name).read_bytes(), path.name
    other = generate_submissions(tmp_path / "other", PERIODS[0], PERIODS[0], scale=SCALE, seed=SEED + 1)
    assert all(p.read_bytes() != (out / p.name).read_bytes() for p in other.files)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_submissions(tmp_path, "2010H2", "2010H1")
    with pytest.raises(ValueError):
        generate_submissions(tmp_path, "2005H2", "2006H1")
    with pytest.raises(ValueError):
        generate_submissions(tmp_path, scale=0)
