"""Resources: where the data lives, from environment variables with safe local defaults."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from ingest.environment import dbt_executable
from ingest.reference import project_root

# Every step that opens the warehouse is in this pool; its limit (1) is in dagster.yaml. Enforced per
# step ("op" granularity) by the executor against the slots in the instance's storage, so runs
# executed in-process (`qiangji run`) and runs launched by the daemon wait for one another alike.
WAREHOUSE_POOL = "duckdb_warehouse"


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


@contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """The instance in $DAGSTER_HOME, created under a file lock: two commands starting together on a
    new home would otherwise both create its sqlite tables, and one of them fail."""
    with open(Path(os.environ["DAGSTER_HOME"]) / ".instance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = dg.DagsterInstance.get()
    with instance:
        yield instance
