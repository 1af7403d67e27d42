"""`qiangji prepare`: the dbt manifest Dagster loads, parsed now."""

from __future__ import annotations

from cli.console import console


def prepare() -> None:
    """Parse the dbt project into its manifest (needed before Dagster loads the definitions)."""
    from orchestration.project import prepare_dbt

    console.print(f"dbt manifest: {prepare_dbt(force=True)}", markup=False)
