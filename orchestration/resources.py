"""Resources: where the data lives, from environment variables with safe local defaults."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from ingest.environment import dbt_executable
from ingest.reference import project_root

WAREHOUSE_POOL = "duckdb_warehouse"  # every step that writes the warehouse; its limit (1) is in dagster.yaml


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


class QiangjiHome(dg.ConfigurableResource):
    """The data home: landing/, archive/, warehouse.duckdb, published/."""

    home: str
    landing: str | None = None

    @property
    def home_path(self) -> Path:
        return Path(self.home).resolve()

    @property
    def landing_path(self) -> Path:
        return Path(self.landing).resolve() if self.landing else self.home_path / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.home_path / "warehouse.duckdb"

    @property
    def archive_path(self) -> Path:
        return self.home_path / "archive"

    @property
    def published_path(self) -> Path:
        return self.home_path / "published"

    @property
    def demo_key_file(self) -> Path:
        return self.home_path / ".pseudonym.key"


def build_resources() -> dict[str, object]:
    return {
        "qiangji": QiangjiHome(
            home=dg.EnvVar("QIANGJI_HOME"),
            landing=dg.EnvVar("QIANGJI_LANDING"),
        ),
        "dbt": DbtCliResource(
            project_dir=str(dbt_project_dir()),
            profiles_dir=str(dbt_project_dir()),
            dbt_executable=dbt_executable(),  # the venv's dbt, also when the venv is not on PATH
        ),
    }
