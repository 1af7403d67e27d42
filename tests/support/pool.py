"""The pipeline's steps in the warehouse pool, read from the definitions (the others — the dashboard,
the gap workbooks — read only published copies and may run beside another run's steps)."""

from __future__ import annotations


def warehouse_steps() -> set[str]:
    from orchestration.definitions import defs
    from orchestration.defs.jobs import PIPELINE
    from orchestration.resources import WAREHOUSE_POOL

    nodes = defs.resolve_job_def(PIPELINE).graph.nodes
    steps = {n.name for n in nodes if getattr(n.definition, "pool", None) == WAREHOUSE_POOL}
    assert {"submission", "warehouse_models", "great_expectations_suites", "published_marts"} <= steps
    return steps
