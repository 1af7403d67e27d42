"""Quality: the Great Expectations suites as asset checks, the audit trail and the Data Docs.

Each suite gives two checks on its table: `<suite>_integrity` (blocking: keys, references,
impossible values — a failure stops publication) and `<suite>_warnings` (reconciliations, shifts,
missing submissions, duplicates across districts — reported, publication goes on). The suites
run once, inside DuckDB; every expectation's result goes to audit.audit_check_results and the
offline Data Docs under <home>/quality/data_docs/.
"""

import dagster as dg

from expectations.suites import SUITES
from orchestration.resources import WAREHOUSE_POOL, QiangjiHome

# The two checks of a suite: its expectations of one severity, the check's name suffix and severity.
CHECKS_OF_A_SUITE = (
    ("blocking", "integrity", dg.AssetCheckSeverity.ERROR),
    ("warning", "warnings", dg.AssetCheckSeverity.WARN),
)


def _specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for suite, (table, _checks) in SUITES.items():
        specs.append(
            dg.AssetCheckSpec(
                f"{suite}_integrity",
                asset=dg.AssetKey([table]),
                blocking=True,
                description=f"GX {suite}: blocking expectations (integrity)",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                f"{suite}_warnings",
                asset=dg.AssetKey([table]),
                description=f"GX {suite}: warnings for auditors (reconciliations, shifts, gaps)",
            )
        )
    return specs


def _md(outcomes: list) -> str:
    lines = []
    for o in outcomes:
        where = ""
        if o.sample:
            first = o.sample[0]
            where = " e.g. " + ", ".join(f"{k}={v}" for k, v in list(first.items())[:4])
        lines.append(
            f"- {o.name}: {o.unexpected_count if o.unexpected_count is not None else o.error}{where}"
        )
    return "\n".join(lines) or "none"


@dg.multi_asset_check(specs=_specs(), pool=WAREHOUSE_POOL, can_subset=False)
def great_expectations_suites(context: dg.AssetCheckExecutionContext, qiangji: QiangjiHome):
    """Evaluate every GX suite inside DuckDB, record the results, render the Data Docs."""
    import duckdb

    from expectations.audit_rows import gx_rows
    from expectations.data_docs import render_data_docs
    from expectations.suites import run_suites
    from warehouse.audit import locate_submissions, now, write_audit_rows

    layout = qiangji.layout
    outcomes = run_suites(layout.warehouse, layout.quality)
    with duckdb.connect(str(layout.warehouse)) as con:
        write_audit_rows(con, gx_rows(outcomes, context.run.run_id, now()))
        locate_submissions(con, context.run.run_id)
    docs = render_data_docs(layout.warehouse, layout.data_docs, context.run.run_id, outcomes)
    context.log.info(f"Data Docs: {docs}")
    for suite in outcomes:
        for severity, suffix, dagster_severity in CHECKS_OF_A_SUITE:
            expectations = [o for o in suite.outcomes if o.severity == severity]
            failed = [o for o in expectations if not o.success]
            metadata = {
                "expectations": dg.MetadataValue.int(len(expectations)),
                "failed": dg.MetadataValue.int(len(failed)),
                "failures": dg.MetadataValue.md(_md(failed)),
            }
            if severity == "blocking":
                metadata["data_docs"] = dg.MetadataValue.path(str(docs))
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey([suite.table]),
                check_name=f"{suite.suite}_{suffix}",
                passed=not failed,
                severity=dagster_severity,
                metadata=metadata,
            )


defs = dg.Definitions(asset_checks=[great_expectations_suites])
