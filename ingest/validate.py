"""Validate a read submission: structural checks, then the pandera models row by row.

Structural errors raise `StructuralError` (the submission is rejected whole). Row errors mark
the row `_quarantined` and add problem rows; when more than the configured share of a sheet's
rows have errors of their own, the submission is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from ingest.errors import PROBLEM_SCHEMA, Problem, StructuralError, empty_problems, problem_frame
from ingest.identity import mask_id_expr
from ingest.normalize import clean_text, normalize_sheet, parse_date
from ingest.read import ROW, RawSubmission
from ingest.schemas import MODELS, ROW_RULES
from ingest.settings import IngestSettings
from ingest.spec import COVER, DATA_SHEETS, UNITS
from warehouse.reference import reporting_units

QUARANTINED = "_quarantined"


@dataclass
class ValidatedSubmission:
    raw: RawSubmission
    frames: dict[str, pl.DataFrame]  # typed, by sheet alias, with _row and _quarantined
    problems: pl.DataFrame  # row problems and warnings (errors.PROBLEM_SCHEMA)
    committee_org: str | None
    submitted_date: object
    rejection: Problem | None = None  # too large a share of rows failed: rejected, problems kept

    @property
    def all_problems(self) -> pl.DataFrame:
        """The reader's warnings (extra columns) and the row problems, as one frame."""
        return pl.concat([problem_frame(self.raw.warnings), self.problems])

    @property
    def quarantined_rows(self) -> int:
        return sum(int(f[QUARANTINED].sum()) for f in self.frames.values())


def validate_submission(raw: RawSubmission, settings: IngestSettings | None = None) -> ValidatedSubmission:
    settings = settings or IngestSettings()
    name = raw.name
    file = name.file_name
    submitted_date = _check_cover(raw)

    typed: dict[str, pl.DataFrame] = {}
    problem_parts = [empty_problems()]
    for sheet in DATA_SHEETS:
        frame, parse_problems = normalize_sheet(raw.sheets[sheet.alias], settings)
        typed[sheet.alias] = frame
        problem_parts.append(parse_problems)

    committee_org = _committee_org(file, typed["units"], reporting_units()[name.district_code].kind)
    context = _with_context(typed, name.period.start, name.period.end, committee_org)
    for sheet in DATA_SHEETS:
        problem_parts.append(_run_model(sheet.alias, context[sheet.alias]))
    problem_parts.append(_dangling_covering_orgs(typed))
    problems = _drop_required_on_unreadable(pl.concat(problem_parts))

    frames: dict[str, pl.DataFrame] = {}
    rejection: Problem | None = None
    for sheet in DATA_SHEETS:
        bad_rows = problems.filter((pl.col("sheet") == sheet.name) & (pl.col("severity") == "row"))[
            "row"
        ].unique()
        frame = typed[sheet.alias].with_columns(pl.col(ROW).is_in(bad_rows.implode()).alias(QUARANTINED))
        share_over = frame.height and bad_rows.len() / frame.height > settings.quarantine_share
        if share_over and rejection is None:
            rejection = Problem(
                file,
                "too_many_row_errors",
                "structural",
                sheet=sheet.name,
                value=f"{bad_rows.len()}/{frame.height}",
            )
        frames[sheet.alias] = frame
    return ValidatedSubmission(raw, frames, problems, committee_org, submitted_date, rejection)


def _check_cover(raw: RawSubmission) -> object:
    file = raw.name.file_name
    cover = {k: (pl.select(clean_text(pl.lit(v, pl.String))).item()) for k, v in raw.cover.items()}
    for key, expected in (("district_code", raw.name.district_code), ("period", str(raw.name.period))):
        if (cover.get(key) or "").upper() != expected:
            header = COVER.column(key).header
            raise StructuralError(
                Problem(
                    file,
                    "cover_mismatch",
                    "structural",
                    sheet=COVER.name,
                    column=header,
                    value=cover.get(key),
                )
            )
    submitted = pl.select(parse_date(pl.lit(cover["submitted_date"], pl.String))).item()
    if submitted is None:
        raise StructuralError(
            Problem(
                file,
                "date_format",
                "structural",
                sheet=COVER.name,
                column=COVER.column("submitted_date").header,
                value=cover["submitted_date"],
            )
        )
    return submitted


def _committee_org(file: str, units: pl.DataFrame, kind: str) -> str | None:
    expected = "系统党委" if kind == "system" else "区县党委"
    committees = units.filter(pl.col("unit_type").is_in(["区县党委", "系统党委"]))
    if committees.height != 1 or committees["unit_type"][0] != expected:
        row = committees[ROW][1] if committees.height > 1 else None
        raise StructuralError(
            Problem(
                file,
                "committee_count",
                "structural",
                sheet=UNITS.name,
                row=row,
                column=UNITS.column("unit_type").header,
                value=f"{committees.height} × {expected}",
            )
        )
    return committees["covering_org_code"][0]


def _with_context(
    typed: dict[str, pl.DataFrame], start: object, end: object, committee_org: str | None
) -> dict[str, pl.DataFrame]:
    """Add the period bounds and the cross-sheet reference flags the models read."""
    orgs = typed["organizations"]["org_code"].drop_nulls().unique().implode()
    members = typed["members"]["national_id"].drop_nulls().unique().implode()
    training_days = (
        typed["activities"]
        .filter(pl.col("activity_type") == "集中培训")
        .group_by("activity_id")
        .agg(((pl.col("end_date") - pl.col("start_date")).dt.total_days() + 1).max().alias("_activity_days"))
    )
    period = [pl.lit(start, pl.Date).alias("_period_start"), pl.lit(end, pl.Date).alias("_period_end")]
    return {
        "units": typed["units"].with_columns(period),
        "organizations": typed["organizations"].with_columns(
            *period,
            (pl.col("parent_org_code").is_null() | pl.col("parent_org_code").is_in(orgs)).alias(
                "_ref_parent"
            ),
            pl.lit(committee_org, pl.String).alias("_committee_org"),
        ),
        "members": typed["members"].with_columns(*period, pl.col("org_code").is_in(orgs).alias("_ref_org")),
        "admissions": typed["admissions"].with_columns(
            *period, pl.col("national_id").is_in(members).alias("_ref_member")
        ),
        "activities": typed["activities"].with_columns(
            *period, pl.col("org_code").is_in(orgs).alias("_ref_org")
        ),
        "training": typed["training"]
        .join(training_days, on="activity_id", how="left", maintain_order="left")
        .with_columns(*period, pl.col("national_id").is_in(members).alias("_ref_member")),
    }


def _all_rows_pass(model: type, frame: pl.DataFrame) -> bool:
    """Every rule of the model and every required column, evaluated in one pass over the sheet.

    Most sheets are clean: then pandera checks only the schema (columns, types), and its
    row-by-row failure report — a query per rule — is only built for sheets where something failed.
    """
    required = [name for name, column in model.to_schema().columns.items() if not column.nullable]
    checks = [expr().fill_null(True).all().alias(name) for name, expr in ROW_RULES[model].items()]
    checks += [pl.col(name).is_not_null().all().alias(f"required__{name}") for name in required]
    return all(frame.select(checks).row(0))


def _run_model(alias: str, frame: pl.DataFrame) -> pl.DataFrame:
    sheet = next(s for s in DATA_SHEETS if s.alias == alias)
    model = MODELS[alias]
    try:
        if _all_rows_pass(model, frame):
            with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
                model.validate(frame, lazy=True)
            return empty_problems()
        model.validate(frame, lazy=True)
        return empty_problems()
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    failures = failures.filter(pl.col("index").is_not_null())
    rule_column = (
        pl.when(pl.col("schema_context") == "Column")
        .then(pl.struct(rule=pl.lit("required"), column=pl.col("column")))
        .otherwise(
            pl.struct(
                rule=pl.col("check").str.split("__").list.first(),
                column=pl.col("check").str.split("__").list.last(),
            )
        )
    )
    unexpected = failures.filter((pl.col("schema_context") == "Column") & (pl.col("check") != "not_nullable"))
    if unexpected.height:  # a dtype failure is a bug in normalize, not a problem of the file
        raise RuntimeError(
            f"{alias}: unexpected schema failure {unexpected.select('column', 'check').row(0)}"
        )
    located = (
        failures.select(pl.col("index").cast(pl.Int64), rule_column.alias("rc"))
        .unnest("rc")
        .join(
            frame.with_row_index("index").with_columns(pl.col("index").cast(pl.Int64)), on="index", how="left"
        )
    )
    headers = {c.name: c.header for c in sheet.columns}
    parts = []
    for column, group in located.group_by("column"):
        column = str(column[0])
        dtype = sheet.column(column).dtype
        value = pl.col(column).cast(pl.String) if column in frame.columns else pl.lit(None, pl.String)
        if dtype == "national_id":
            value = mask_id_expr(column)
            group = group.with_columns(_numeric_cell_rule(column))
        elif dtype == "date":
            value = pl.col(column).dt.to_string("%Y-%m-%d")
        parts.append(
            group.select(
                pl.lit(sheet.name).alias("sheet"),
                pl.col(ROW).alias("row"),
                pl.lit(headers[column]).alias("column"),
                value.alias("value"),
                pl.col("rule"),
                pl.lit("row").alias("severity"),
            )
        )
    return pl.concat(parts).cast(PROBLEM_SCHEMA) if parts else empty_problems()


def _numeric_cell_rule(column: str) -> pl.Expr:
    """An ID that Excel stored as a number has lost its last digits, and gets its own message.

    Such a cell reads back as the exact value of a double: above 2**56 every double is a multiple
    of 16, which a real ID with a wrong check digit is only by chance. Text like 1.20104E+17 is
    the same mistake copied out of Excel.
    """
    value = pl.col(column)
    as_number = value.str.contains(r"^\d{18}$") & (value.cast(pl.Int64, strict=False) % 16 == 0)
    scientific = value.str.contains(r"(?i)^\d(\.\d+)?E\+?\d+$")
    return (
        pl.when((pl.col("rule") == "id_format") & (as_number | scientific))
        .then(pl.lit("id_numeric_cell"))
        .otherwise(pl.col("rule"))
        .alias("rule")
    )


def _dangling_covering_orgs(typed: dict[str, pl.DataFrame]) -> pl.DataFrame:
    orgs = typed["organizations"]["org_code"].drop_nulls().unique().implode()
    return (
        typed["units"]
        .filter(pl.col("covering_org_code").is_not_null() & ~pl.col("covering_org_code").is_in(orgs))
        .select(
            pl.lit(UNITS.name).alias("sheet"),
            pl.col(ROW).alias("row"),
            pl.lit(UNITS.column("covering_org_code").header).alias("column"),
            pl.col("covering_org_code").alias("value"),
            pl.lit("dangling_covering_org").alias("rule"),
            pl.lit("warning").alias("severity"),
        )
        .cast(PROBLEM_SCHEMA)
    )


def _drop_required_on_unreadable(problems: pl.DataFrame) -> pl.DataFrame:
    """A cell that could not be read already has its message; 'required' on it would repeat it.

    The same for 'required_for_type': the value is there (an enterprise's 职工人数 '12.5'), unreadable.
    """
    is_missing = pl.col("rule").is_in(["required", "required_for_type"])
    unreadable = problems.filter(~is_missing).select("sheet", "row", "column").unique()
    required = problems.filter(is_missing).join(unreadable, on=["sheet", "row", "column"], how="anti")
    return pl.concat([problems.filter(~is_missing), required]).sort("sheet", "row", "column")
