"""Quality: Great Expectations suites as blocking asset checks on the marts."""

import dagster as dg

from orchestration.resources import WAREHOUSE_POOL, QiangjiHome


@dg.asset_check(
    asset=dg.AssetKey(["mart_target_attainment"]),
    blocking=True,
    pool=WAREHOUSE_POOL,  # reads the file another run may be writing: DuckDB locks it per process
    description="GX suite mart_target_attainment_suite, evaluated inside DuckDB",
)
def mart_target_attainment_gx(qiangji: QiangjiHome) -> dg.AssetCheckResult:
    from expectations.suites import run_suite

    outcome = run_suite(qiangji.warehouse_path, "mart_target_attainment")
    failed = [o for o in outcome.outcomes if not o.success]
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
            "failed": dg.MetadataValue.int(len(failed)),
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {o.name}: {o.unexpected_count or o.error or o.observed}" for o in failed)
                or "none"
            ),
        },
    )


defs = dg.Definitions(asset_checks=[mart_target_attainment_gx])
