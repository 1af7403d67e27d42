"""Expectation suites, defined in code (reviewed like code), and the runner that evaluates them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expectations.gx_duckdb import close_datasource, duckdb_datasource

STATUSES = ["achieved", "on_track", "at_risk", "missed", "no_data"]


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str
    success: bool
    unexpected_count: int | None
    observed: str | None
    error: str | None  # the expectation could not be evaluated: counts as a failure


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    table: str
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(o.success for o in self.outcomes)


def mart_target_attainment_expectations() -> list[Any]:
    import great_expectations as gx

    e = gx.expectations
    return [
        e.ExpectTableRowCountToBeBetween(min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="target_id"),
        e.ExpectColumnValuesToNotBeNull(column="district_code"),
        e.ExpectColumnValuesToNotBeNull(column="period"),
        e.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES),
        e.ExpectCompoundColumnsToBeUnique(column_list=["target_id", "district_code", "period"]),
        e.UnexpectedRowsExpectation(
            description="share targets have values within [0, 1]",
            unexpected_rows_query=(
                "SELECT * FROM {batch} WHERE target_kind <> 'count' AND (value < 0 OR value > 1)"
            ),
        ),
        e.UnexpectedRowsExpectation(
            description="a numerator never exceeds its denominator",
            unexpected_rows_query="SELECT * FROM {batch} WHERE numerator > denominator",
        ),
        e.UnexpectedRowsExpectation(
            description="a row with a value has a status other than no_data",
            unexpected_rows_query="SELECT * FROM {batch} WHERE value IS NOT NULL AND status IS NULL",
        ),
    ]


SUITES = {"mart_target_attainment": mart_target_attainment_expectations}


def run_suite(warehouse: Path, table: str, schema: str = "main") -> SuiteOutcome:
    """Evaluate the suite of `table` inside DuckDB and return every expectation's outcome."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # logs, not terminal bars
    datasource = duckdb_datasource(context, "warehouse", warehouse)
    try:
        asset = datasource.add_table_asset(name=table, table_name=table, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("whole_table")
        suite = context.suites.add(gx.ExpectationSuite(name=f"{table}_suite"))
        for expectation in SUITES[table]():
            suite.add_expectation(expectation)
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{table}_validation", data=batch, suite=suite)
        )
        result = validation.run(result_format="SUMMARY")
    finally:
        close_datasource(datasource)
    outcomes = []
    for r in result.results:
        info = r.exception_info if isinstance(r.exception_info, dict) else {}
        raised = bool(info.get("raised_exception"))
        config = r.expectation_config
        name = config.description or config.type
        if config.kwargs.get("column"):
            name = f"{config.type}({config.kwargs['column']})"
        observed = r.result.get("observed_value")
        outcomes.append(
            ExpectationOutcome(
                name=name,
                success=bool(r.success) and not raised,
                unexpected_count=r.result.get("unexpected_count"),
                observed=None if observed is None else str(observed),
                error=info.get("exception_message") if raised else None,
            )
        )
    return SuiteOutcome(f"{table}_suite", table, outcomes)
