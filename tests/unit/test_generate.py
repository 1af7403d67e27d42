"""The synthetic submission generator: real files, read back with fastexcel, checked against the spec."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from generator import DEFAULT_SCALE, GenerationSummary, generate_submissions
from ingest import identity, spec
from warehouse.reference import code_values as code_list

SCALE = 0.002
SEED = 2006
PERIODS = ("2009H2", "2010H1", "2010H2")  # a year without its H1, then a full year
READ_DTYPES = {"date": "date", "int": "int", "number": "float"}
Generated = tuple[Path, GenerationSummary, list[tuple[int, int]]]  # out dir, summary, progress calls
CODE_COLUMNS = {c.name: c.code_list for s in spec.SHEETS for c in s.columns if c.code_list}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("generated")
    calls: list[tuple[int, int]] = []
    summary = generate_submissions(
        out, PERIODS[0], PERIODS[-1], scale=SCALE, seed=SEED, progress=lambda d, n: calls.append((d, n))
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
    assert summary.ground_truth_path == out.parent / "ground_truth.csv"  # beside the landing folder
    assert not (out / "ground_truth.csv").exists()
    assert 0 < DEFAULT_SCALE < 0.05


YEARLY_SNAPSHOT = {"soe_cross_appoint"}
YEARLY_EVENTS = {
    "univ_evaluation", "hospital_evaluation", "rural_training_township", "rural_training_village",
    "dev_process", "dev_ballot", "annual_inspection",
}  # fmt: skip
CUMULATIVE = {"dev_under35", "dev_hs_plus", "dev_female"}
TARGETS = {
    "soe_four_good", "soe_cross_appoint", "soe_distressed_org", "township_five_good", "village_five_good",
    "village_venue", "community_committee", "new_compound_org", "community_demo_sites",
    "twonew_org_coverage", "twonew_joint_coverage", "twonew_instructor", "npe30_member", "npe50_org",
    "univ_evaluation", "hospital_evaluation", "rural_training_township", "rural_training_village",
    "floating_managed", "dev_under35", "dev_hs_plus", "dev_female", "dev_process", "dev_ballot",
    "halfyear_committee_meeting", "annual_inspection",
}  # fmt: skip


def _completed_years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _plus_a_year(d: dt.date) -> dt.date:
    return d.replace(year=d.year + 1, day=28) if (d.month, d.day) == (2, 29) else d.replace(year=d.year + 1)


def _figures(sheets: dict[str, pl.DataFrame]) -> dict[str, object]:
    """One file's share of every target, recomputed here row by row from what was written (targets.md).

    Period targets get (numerator, denominator); the yearly ones that join both halves get the
    pieces to join: a set of evaluated organizations, the cadres and training days by national ID.
    """
    org_type = dict(sheets["organizations"].select("org_code", "org_type").iter_rows())
    counts: dict[str, list[int]] = {target: [0, 0] for target in TARGETS}

    def count(target: str, in_denominator: bool, in_numerator: bool) -> None:
        pair = counts.setdefault(target, [0, 0])
        pair[1] += in_denominator
        pair[0] += in_denominator and in_numerator

    committee, soe_sums = None, [0, 0]
    univ, hospital = [], []
    for u in sheets["units"].iter_rows(named=True):
        kind, cover = u["unit_type"], org_type.get(u["covering_org_code"])
        covered = cover in ("党委", "党工委", "党总支", "党支部", "联合党支部")
        members, employees = u["member_count"], u["employee_count"]
        soe, two_new, npe = (
            kind in ("国有独资企业", "国有控股企业"),
            kind in ("非公有制企业", "社会组织"),
            kind == "非公有制企业",
        )
        if kind in ("区县党委", "系统党委"):
            committee = u["covering_org_code"]
        count("soe_four_good", soe, u["rating"] == "四好")
        if soe and u["board_members"] is not None and u["cross_appointed"] is not None:
            soe_sums[0] += u["cross_appointed"]
            soe_sums[1] += u["board_members"]
        count(
            "soe_distressed_org", soe and u["operating_status"] in ("停产", "关闭", "破产", "困难"), covered
        )
        count("township_five_good", kind == "乡镇", u["rating"] == "五个好")
        count("village_five_good", kind == "行政村", u["rating"] == "五个好")
        count("village_venue", kind == "行政村", u["has_venue"] == "是")
        count("community_committee", kind == "社区", cover in ("党委", "党总支"))
        built = u["built_date"] and _day(u["built_date"])
        count(
            "new_compound_org", kind == "居民小区" and bool(built) and built >= dt.date(2006, 1, 1), covered
        )
        count("community_demo_sites", kind == "社区", u["is_demo_site"] == "是")
        count("twonew_org_coverage", two_new and (members or 0) >= 3, covered and cover != "联合党支部")
        count("twonew_joint_coverage", two_new and members in (1, 2), covered)
        count("twonew_instructor", two_new and members == 0, u["has_instructor"] == "是")
        count("npe30_member", npe and (employees or 0) >= 30, (members or 0) >= 1)
        count("npe50_org", npe and ((employees or 0) >= 50 or u["is_high_tech"] == "是"), covered)
        if cover == "党委" and kind == "高等院校":
            univ.append(u["covering_org_code"])
        if cover == "党委" and kind == "医疗卫生机构":
            hospital.append(u["covering_org_code"])

    person = {}
    for m in sheets["members"].iter_rows(named=True):
        person[m["national_id"]] = m
        count("floating_managed", m["is_floating"] == "是", m["floating_managed_by"] is not None)
    for a in sheets["admissions"].iter_rows(named=True):
        m = person[a["national_id"]]
        admitted = _day(a["admission_date"])
        count("dev_under35", True, _completed_years(_day(m["birth_date"]), admitted) <= 35)
        count("dev_hs_plus", True, m["education"] in ("研究生", "大学本科", "大学专科", "中专", "高中"))
        count("dev_female", True, m["gender"] == "女")
        steps = all(a[k] == "是" for k in ("recommended", "prereviewed", "publicized"))
        count("dev_process", True, steps and _plus_a_year(_day(a["activist_date"])) <= admitted)
        count("dev_ballot", True, a["ballot"] == "是")

    acts = sheets["activities"]
    meeting = acts.filter(
        (pl.col("activity_type") == "党委会")
        & (pl.col("org_code") == committee)
        & pl.col("topic").str.contains("强基创先").fill_null(False)
    )
    count("halfyear_committee_meeting", True, meeting.height > 0)
    inspections = acts.filter(pl.col("activity_type") == "检查评估")
    count(
        "annual_inspection", True, inspections["organizer"].str.contains("市委组织部").fill_null(False).any()
    )
    days: dict[str, float] = {}
    for nid, d in sheets["training"].select("national_id", "days").iter_rows():
        days[nid] = days.get(nid, 0.0) + d
    cadres = {
        kind: [nid for nid, m in person.items() if m["cadre_type"] == kind] for kind in ("乡镇干部", "村干部")
    }
    evaluated = set(inspections["org_code"])
    return {
        **{target: tuple(pair) for target, pair in counts.items()},
        "soe_cross_appoint": tuple(soe_sums),
        "univ_evaluation": (univ, evaluated),
        "hospital_evaluation": (hospital, evaluated),
        "rural_training_township": (cadres["乡镇干部"], days),
        "rural_training_village": (cadres["村干部"], days),
    }


def _yearly(target: str, h1: dict[str, object] | None, h2: dict[str, object]) -> tuple[int, int] | None:
    if target in YEARLY_SNAPSHOT:
        return h2[target]
    if h1 is None:
        return None  # the year's H1 was not generated: no value
    if target in ("univ_evaluation", "hospital_evaluation"):
        committees, evaluated = h2[target][0], h1[target][1] | h2[target][1]
        return sum(c in evaluated for c in committees), len(committees)
    if target.startswith("rural_training"):
        cadres, days1, days2 = h2[target][0], h1[target][1], h2[target][1]
        return sum(days1.get(c, 0) + days2.get(c, 0) >= 10 for c in cadres), len(cadres)
    (n1, d1), (n2, d2) = h1[target], h2[target]
    if target == "annual_inspection":
        return max(n1, n2), 1
    return n1 + n2, d1 + d2


def _expected_truth(figures: dict[tuple[str, str], dict[str, object]]) -> dict[tuple, tuple]:
    expected: dict[tuple[str, str, str], tuple[int | None, int | None]] = {}
    for target in TARGETS:
        running: dict[str, tuple[int, int]] = {}  # cumulative targets add up from the first period
        for period in PERIODS:
            if target in YEARLY_SNAPSHOT | YEARLY_EVENTS:
                if period.endswith("H1"):
                    continue
                h1 = period[:4] + "H1"
                rows = {
                    d: _yearly(target, figures.get((d, h1)), f)
                    for (d, p), f in figures.items()
                    if p == period
                }
            else:
                rows = {d: f[target] for (d, p), f in figures.items() if p == period}
            values = [v for v in rows.values() if v is not None]
            city = (sum(n for n, _ in values), sum(d for _, d in values)) if values else (None, None)
            for district, value in rows.items():
                if target in CUMULATIVE:
                    before = running.get(district, (0, 0))
                    value = running[district] = (before[0] + value[0], before[1] + value[1])
                if target != "community_demo_sites":
                    expected[(target, district, period)] = value or (None, None)
            if target in CUMULATIVE:
                before = running.get("120000", (0, 0))
                city = running["120000"] = (before[0] + city[0], before[1] + city[1])
            if target == "community_demo_sites":
                city = (city[0], None)
            expected[(target, "120000", period)] = city
    return expected


def _truth(summary: GenerationSummary) -> pl.DataFrame:
    return pl.read_csv(
        summary.ground_truth_path,
        schema_overrides={"district_code": pl.String, "numerator": pl.Int64, "denominator": pl.Int64},
    )


def test_every_file_keeps_the_format_and_the_ground_truth_agrees(generated: Generated) -> None:
    _, summary, _ = generated
    members = 0
    ids_by_period: dict[str, list[str]] = {}
    figures: dict[tuple[str, str], dict[str, object]] = {}
    for path in summary.files:
        district, period = path.stem.split("_")
        sheets = _check_submission(path)
        members += sheets["members"].height
        ids_by_period.setdefault(period, []).extend(sheets["members"]["national_id"])
        figures[(district, period)] = _figures(sheets)
    assert members == summary.members
    for ids in ids_by_period.values():  # no cross-district duplicates
        assert len(ids) == len(set(ids))
    truth = {(t, d, p): (n, m) for t, d, p, n, m in _truth(summary).iter_rows()}
    assert truth == _expected_truth(figures)


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
    truth = _truth(summary)
    assert truth.columns == ["target_id", "district_code", "period", "numerator", "denominator"]
    assert set(truth["target_id"]) == TARGETS
    for period in PERIODS:
        for target in TARGETS:
            rows = truth.filter((pl.col("period") == period) & (pl.col("target_id") == target))
            if target in YEARLY_SNAPSHOT | YEARLY_EVENTS and period.endswith("H1"):
                assert rows.height == 0  # yearly targets: one row a year, on H2
                continue
            if target == "community_demo_sites":  # a count, for the city only
                assert rows["district_code"].to_list() == ["120000"] and rows["denominator"].is_null().all()
                continue
            assert set(rows["district_code"]) == _reporting_units(period) | {"120000"}
            units = rows.filter(pl.col("district_code") != "120000")
            city = rows.filter(pl.col("district_code") == "120000")
            # a year whose H1 was not generated has no value for the event-based targets
            no_value = target in YEARLY_EVENTS and period == "2009H2"
            assert rows["denominator"].is_null().all() == no_value
            assert rows["denominator"].is_null().any() == no_value
            if target not in CUMULATIVE and not no_value:
                assert city["numerator"].item() == units["numerator"].sum()
                assert city["denominator"].item() == units["denominator"].sum()
    assert (truth["numerator"] <= truth["denominator"]).all()
    meeting = truth.filter(
        (pl.col("target_id") == "halfyear_committee_meeting") & (pl.col("period") == PERIODS[1])
    )
    assert meeting["denominator"].to_list() == [1] * (meeting.height - 1) + [meeting.height - 1]
    # every target has a non-empty denominator somewhere in 2010H2 (the demo data exercises it)
    full_year = truth.filter((pl.col("period") == "2010H2") & (pl.col("district_code") == "120000"))
    assert set(full_year.filter(pl.col("denominator") > 0)["target_id"]) == TARGETS - {"community_demo_sites"}


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
