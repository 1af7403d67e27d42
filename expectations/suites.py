"""Expectation suites on staging, facts and marts, defined in code (reviewed like code).

Severity decides what a failure does:
- `blocking`: integrity — keys, references, impossible values. A failure stops the marts from
  being published (write-audit-publish).
- `warning`: reconciliations, shifts against the previous period, missing submissions,
  duplicates across districts. Reported to auditors; publication goes on.

Queries of UnexpectedRowsExpectation return `submission_id` and `source_row` where a row has
one, so every failure can be traced back to the file and the Excel row it came from. Braces
other than `{batch}` break GX's formatting of these queries: none are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from expectations.gx_duckdb import close_datasource, duckdb_datasource
from warehouse.privacy import mask_ids_in_data, mask_ids_in_text
from warehouse.reference import CITY_CODE, STATUSES

Severity = Literal["blocking", "warning"]
SAMPLE_ROWS = 20  # failing rows kept per failed expectation (audit details, Data Docs)


@dataclass(frozen=True)
class Check:
    severity: Severity
    build: Any  # () -> a GX expectation


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    table: str
    name: str
    severity: Severity
    success: bool
    unexpected_count: int | None
    observed: str | None
    error: str | None  # could not be evaluated: counts as a failure, never a pass
    sample: list[dict[str, Any]] = field(default_factory=list)
    # failing rows per submission (queries that return submission_id), counted in DuckDB over every
    # failing row — GX itself keeps at most 200 — so the audit trail answers per district and period
    failing_by_submission: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    table: str
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(o.success for o in self.outcomes)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.severity == "blocking" and not o.success]


def _gx() -> Any:
    import great_expectations as gx

    return gx.expectations


def rows(description: str, query: str) -> Any:
    return _gx().UnexpectedRowsExpectation(description=description, unexpected_rows_query=query)


def blocking(build: Any) -> Check:
    return Check("blocking", build)


def warning(build: Any) -> Check:
    return Check("warning", build)


def stg_submissions_checks() -> list[Check]:
    e = _gx()
    return [
        blocking(lambda: e.ExpectColumnValuesToBeUnique(column="submission_id")),
        # the same bytes may come under two names (a rejected file renamed as its message asked)
        blocking(lambda: e.ExpectCompoundColumnsToBeUnique(column_list=["sha256", "file_name"])),
        blocking(
            lambda: e.ExpectColumnValuesToBeInSet(
                column="status", value_set=["accepted", "rejected", "superseded", "pending"]
            )
        ),
        blocking(
            lambda: rows(
                "at most one accepted version per reporting unit and period",
                "SELECT district_code, period, count(*) AS accepted FROM {batch}"
                " WHERE status = 'accepted' GROUP BY district_code, period HAVING count(*) > 1",
            )
        ),
    ]


def fct_unit_snapshot_checks() -> list[Check]:
    e = _gx()
    return [
        blocking(
            lambda: e.ExpectCompoundColumnsToBeUnique(column_list=["district_code", "period", "unit_code"])
        ),
        blocking(lambda: e.ExpectColumnValuesToNotBeNull(column="unit_type")),
        blocking(
            lambda: rows(
                "counts are never negative and cross-appointments never exceed the board",
                "SELECT submission_id, source_row, unit_code FROM {batch}"
                " WHERE employee_count < 0 OR member_count < 0 OR board_members < 0"
                " OR cross_appointed > board_members",
            )
        ),
        blocking(
            lambda: rows(
                "exactly one reporting-unit committee per submission",
                "SELECT submission_id, count(*) AS committees FROM {batch}"
                " GROUP BY submission_id HAVING sum(CASE WHEN is_reporting_committee THEN 1 ELSE 0 END) <> 1",
            )
        ),
        warning(
            lambda: rows(
                "a 联合党支部 pools several units: it covers at least two",
                "SELECT submission_id, '单位' AS source_sheet, min(source_row) AS source_row,"
                " covering_org_code, count(*) AS units FROM {batch}"
                " WHERE covering_org_type = '联合党支部'"
                " GROUP BY submission_id, covering_org_code HAVING count(*) < 2",
            )
        ),
        warning(
            lambda: rows(
                "an organization other than a 联合党支部 covers one unit (its own)",
                "SELECT submission_id, '单位' AS source_sheet, min(source_row) AS source_row,"
                " covering_org_code, count(*) AS units FROM {batch}"
                " WHERE is_covered AND covering_org_type <> '联合党支部' AND NOT is_reporting_committee"
                " GROUP BY submission_id, covering_org_code HAVING count(*) > 1",
            )
        ),
        warning(
            lambda: rows(
                "declared members of the units an organization covers match the members registered in it"
                " and under it (within 20%, or 5 people)",
                # the members of the organization's whole subtree (an SOE's 党委 holds few members
                # itself: they are in its 党总支 and their 党支部); UNION, not UNION ALL, so that a
                # cycle of parent codes ends instead of recursing for ever
                "WITH RECURSIVE declared AS (SELECT submission_id, covering_org_code AS org_code,"
                " sum(member_count) AS declared FROM {batch} WHERE is_covered AND member_count IS NOT NULL"
                " AND NOT is_reporting_committee GROUP BY submission_id, covering_org_code),"
                " subtree AS (SELECT submission_id, org_code AS root, org_code FROM declared"
                " UNION SELECT s.submission_id, s.root, o.org_code FROM subtree s"
                " JOIN main.fct_organization_snapshot o"
                " ON o.submission_id = s.submission_id AND o.parent_org_code = s.org_code),"
                " counted AS (SELECT s.submission_id, s.root AS org_code, count(*) AS counted FROM subtree s"
                " JOIN main.fct_member_snapshot m"
                " ON m.submission_id = s.submission_id AND m.org_code = s.org_code"
                " GROUP BY s.submission_id, s.root)"
                " SELECT d.submission_id, '组织' AS source_sheet, o.source_row, d.org_code, d.declared,"
                " coalesce(c.counted, 0) AS counted"
                " FROM declared d LEFT JOIN counted c ON d.submission_id = c.submission_id"
                " AND d.org_code = c.org_code"
                " LEFT JOIN main.fct_organization_snapshot o ON d.submission_id = o.submission_id"
                " AND d.org_code = o.org_code"
                " WHERE abs(d.declared - coalesce(c.counted, 0)) > greatest(5, 0.2 * d.declared)",
            )
        ),
    ]


def fct_member_snapshot_checks() -> list[Check]:
    e = _gx()
    return [
        blocking(
            lambda: e.ExpectCompoundColumnsToBeUnique(column_list=["district_code", "period", "person_key"])
        ),
        blocking(lambda: e.ExpectColumnValuesToBeInSet(column="gender", value_set=["男", "女"])),
        blocking(
            lambda: rows(
                "person_key is a 64-character pseudonym, never an ID",
                "SELECT submission_id, source_row FROM {batch} WHERE length(person_key) <> 64",
            )
        ),
        blocking(
            lambda: rows(
                "members joined at 18 or later, before the period ended",
                "SELECT m.submission_id, m.source_row FROM {batch} m JOIN main.dim_period p"
                " ON m.period = p.period WHERE m.join_date > p.end_date"
                " OR m.join_date < m.birth_date + INTERVAL 18 YEAR",
            )
        ),
    ]


def fct_admission_checks() -> list[Check]:
    return [
        blocking(
            lambda: rows(
                "admissions fall inside their period, after application and activist dates",
                "SELECT a.submission_id, a.source_row FROM {batch} a JOIN main.dim_period p"
                " ON a.period = p.period WHERE a.admission_date NOT BETWEEN p.start_date AND p.end_date"
                " OR a.application_date > a.activist_date OR a.activist_date > a.admission_date",
            )
        ),
    ]


def mart_submission_status_checks() -> list[Check]:
    return [
        warning(
            lambda: rows(
                "every reporting unit has an accepted submission for every period it reports",
                "SELECT district_code, period, submission_status FROM {batch}"
                " WHERE submission_status <> 'accepted'",
            )
        ),
        warning(
            lambda: rows(
                "no sudden drop or spike against the previous period (members, units, organizations within"
                " half to double)",
                "WITH v AS (SELECT s.district_code, p.period_index,"
                " cast(s.rows_members AS DOUBLE) AS members, cast(s.rows_units AS DOUBLE) AS units,"
                " cast(s.rows_organizations AS DOUBLE) AS orgs FROM main.int_current_submissions c"
                " JOIN main.stg_submissions s ON c.submission_id = s.submission_id"
                " JOIN main.dim_period p ON c.period = p.period)"
                " SELECT b.district_code, b.period, v.members, w.members AS previous_members"
                " FROM {batch} b JOIN main.dim_period p ON b.period = p.period"
                " JOIN v ON v.district_code = b.district_code AND v.period_index = p.period_index"
                " JOIN v AS w ON w.district_code = b.district_code AND w.period_index = p.period_index - 1"
                " WHERE v.members NOT BETWEEN 0.5 * w.members AND 2 * w.members"
                " OR v.units NOT BETWEEN 0.5 * w.units AND 2 * w.units"
                " OR v.orgs NOT BETWEEN 0.5 * w.orgs AND 2 * w.orgs",
            )
        ),
    ]


def mart_cross_district_duplicates_checks() -> list[Check]:
    return [
        warning(
            lambda: rows(
                "no national ID is registered by two reporting units in the same period",
                "SELECT period, district_code, other_district_code, duplicate_members FROM {batch}",
            )
        ),
    ]


def mart_target_attainment_checks() -> list[Check]:
    e = _gx()
    return [
        blocking(lambda: e.ExpectTableRowCountToBeBetween(min_value=1)),
        blocking(lambda: e.ExpectColumnValuesToNotBeNull(column="target_id")),
        blocking(lambda: e.ExpectColumnValuesToNotBeNull(column="district_code")),
        blocking(lambda: e.ExpectColumnValuesToNotBeNull(column="period")),
        blocking(lambda: e.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES))),
        blocking(
            lambda: e.ExpectCompoundColumnsToBeUnique(column_list=["target_id", "district_code", "period"])
        ),
        blocking(
            lambda: rows(
                "share targets have values within [0, 1]",
                "SELECT target_id, district_code, period, value FROM {batch}"
                " WHERE target_kind <> 'count' AND (value < 0 OR value > 1)",
            )
        ),
        blocking(
            lambda: rows(
                "a numerator never exceeds its denominator",
                "SELECT target_id, district_code, period FROM {batch} WHERE numerator > denominator",
            )
        ),
        blocking(
            lambda: rows(
                "every target has a row for the city in every period",
                "SELECT t.target_id, p.period FROM main.dim_target t CROSS JOIN main.dim_period p"
                " WHERE (t.cadence = 'period' OR p.half = 2) AND NOT EXISTS (SELECT 1 FROM {batch} b"
                " WHERE b.target_id = t.target_id AND b.period = p.period"
                f" AND b.district_code = '{CITY_CODE}')",
            )
        ),
    ]


# suite name -> (table, checks); the layer is the table's prefix
SUITES: dict[str, tuple[str, Any]] = {
    "stg_submissions_suite": ("stg_submissions", stg_submissions_checks),
    "fct_unit_snapshot_suite": ("fct_unit_snapshot", fct_unit_snapshot_checks),
    "fct_member_snapshot_suite": ("fct_member_snapshot", fct_member_snapshot_checks),
    "fct_admission_suite": ("fct_admission", fct_admission_checks),
    "mart_submission_status_suite": ("mart_submission_status", mart_submission_status_checks),
    "mart_cross_district_duplicates_suite": (
        "mart_cross_district_duplicates",
        mart_cross_district_duplicates_checks,
    ),
    "mart_target_attainment_suite": ("mart_target_attainment", mart_target_attainment_checks),
}


def _name(config: Any) -> str:
    if config.description:
        return str(config.description)
    column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list") or [])
    return f"{config.type}({column})" if column else str(config.type)


def run_suites(
    warehouse: Path, context_root: Path | None = None, names: list[str] | None = None
) -> list[SuiteOutcome]:
    """Evaluate suites inside DuckDB. With `context_root`, a GX file context there keeps the suites
    and every validation result (JSON) for auditors; otherwise an ephemeral context is used."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if context_root is not None:
        context_root.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(context_root))
    else:
        context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # logs, not terminal bars
    _mask_stored_results(context)
    for stale in [d for d in context.data_sources.all() if d == "warehouse"]:
        context.data_sources.delete(stale)
    datasource = duckdb_datasource(context, "warehouse", warehouse)
    results: list[SuiteOutcome] = []
    try:
        for suite_name in names or list(SUITES):
            table, checks_of = SUITES[suite_name]
            checks = checks_of()
            asset = datasource.add_table_asset(name=table, table_name=table, schema_name="main")
            batch = asset.add_batch_definition_whole_table("whole_table")
            try:
                context.suites.delete(suite_name)
            except Exception:
                pass
            suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
            severities = []
            for check in checks:
                suite.add_expectation(check.build())
                severities.append(check.severity)
            suite.save()
            validation_name = f"{suite_name}_validation"
            try:
                context.validation_definitions.delete(validation_name)
            except Exception:
                pass
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=validation_name, data=batch, suite=suite)
            )
            result = validation.run(result_format="COMPLETE")
            by_id = {str(e.id): s for e, s in zip(suite.expectations, severities, strict=True)}
            outcome = _outcome(suite_name, table, result, by_id)
            results.append(_trace_failing_rows(datasource, outcome, result))
    finally:
        close_datasource(datasource)
    return results


def _mask_stored_results(context: Any) -> None:
    """Mask every ID-shaped token of the validation results before this context's store writes them.

    Results are kept COMPLETE for auditors (GX's unexpected values and rows), so they quote the
    warehouse's values: an ID typed where it does not belong would be written as it is. The store
    is this context's own (a new context per `run_suites`); the results are masked in place, so
    what `run_suites` returns is masked too (warehouse.privacy)."""
    store = context.validation_results_store
    store_results = store.store_validation_results

    def store_masked(suite_validation_result: Any, *args: Any, **kwargs: Any) -> Any:
        for r in suite_validation_result.results:
            r.result = mask_ids_in_data(r.result)
            if isinstance(r.exception_info, dict):
                r.exception_info = mask_ids_in_data(r.exception_info)
        return store_results(suite_validation_result, *args, **kwargs)

    store.store_validation_results = store_masked


def _outcome(suite_name: str, table: str, result: Any, severities: dict[str, Severity]) -> SuiteOutcome:
    """Each expectation's verdict; the failing rows' sample is `_trace_failing_rows`'s (GX's own
    `unexpected_rows` are in no fixed order)."""
    outcomes = []
    for r in result.results:
        info = r.exception_info if isinstance(r.exception_info, dict) else {}
        raised = bool(info.get("raised_exception")) or any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values()
        )
        config = r.expectation_config
        observed = r.result.get("observed_value")
        unexpected = r.result.get("unexpected_count")
        if unexpected is None and config.type == "unexpected_rows_expectation" and isinstance(observed, int):
            unexpected = observed
        message = info.get("exception_message") or next(
            (
                v.get("exception_message")
                for v in info.values()
                if isinstance(v, dict) and v.get("exception_message")
            ),
            None,
        )
        outcomes.append(
            ExpectationOutcome(
                suite=suite_name,
                table=table,
                name=_name(config),
                severity=severities.get(str(config.id), "blocking"),
                success=bool(r.success) and not raised,
                unexpected_count=unexpected,
                observed=None if observed is None else mask_ids_in_text(str(observed)),
                error=mask_ids_in_text(str(message)) if raised and message is not None else None,
            )
        )
    return SuiteOutcome(suite_name, table, outcomes)


def _trace_failing_rows(datasource: Any, suite: SuiteOutcome, result: Any) -> SuiteOutcome:
    """For every failed row query: a sample of its failing rows that is the same on every run, and,
    when the query returns `submission_id`, the failing rows of each submission counted over all of
    them (GX itself keeps at most 200). Both on GX's own persisted connection (the same DuckDB, the
    same query as the expectation).

    GX's own sample is the first rows the query happens to return: DuckDB scans in parallel, so two
    runs over the same warehouse could keep different rows, and the audit trail of two identical
    loads would differ. The sample is the first `SAMPLE_ROWS` in the order of all its columns."""
    import dataclasses

    import sqlalchemy as sa

    connection = datasource.get_execution_engine()._connection
    outcomes = []
    for outcome, r in zip(suite.outcomes, result.results, strict=True):
        query = r.expectation_config.kwargs.get("unexpected_rows_query")
        if outcome.success or outcome.error or not query:
            outcomes.append(outcome)
            continue
        failing = query.replace("{batch}", f"main.{suite.table}")
        sample = [  # as every value that leaves the warehouse: IDs masked (warehouse.privacy)
            mask_ids_in_data(dict(row))
            for row in connection.execute(
                sa.text(f"SELECT * FROM ({failing}) AS failing ORDER BY ALL LIMIT {SAMPLE_ROWS}")
            ).mappings()
        ]
        by_submission = {}
        if sample and "submission_id" in sample[0]:
            counted = connection.execute(
                sa.text(f"SELECT submission_id, count(*) FROM ({failing}) AS failing GROUP BY submission_id")
            ).fetchall()
            by_submission = {mask_ids_in_text(str(k)): int(n) for k, n in counted}
        outcomes.append(dataclasses.replace(outcome, sample=sample, failing_by_submission=by_submission))
    return SuiteOutcome(suite.suite, suite.table, outcomes)


def run_suite(warehouse: Path, table: str) -> SuiteOutcome:
    """The suite of one table (ephemeral context)."""
    [outcome] = run_suites(warehouse, names=[f"{table}_suite"])
    return outcome
