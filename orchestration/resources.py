"""Resources: the data home, the pseudonym key and the ingest limits, typed, from environment variables.

Resolved when a run starts, never at import: `qiangji run` and `qiangji dev` set the variables
(orchestration/runner.py `configure`) before Dagster loads the definitions.
"""

from __future__ import annotations

import dagster as dg

from ingest.keys import load_key
from ingest.settings import IngestSettings
from orchestration.project import dbt_cli_resource
from warehouse.layout import HomeLayout

# Every step that opens the warehouse is in this pool; its limit (1) is in dagster.yaml. Enforced per
# step ("op" granularity) by the executor against the slots in the instance's storage, so runs
# executed in-process (`qiangji run`) and runs launched by the daemon wait for one another alike.
WAREHOUSE_POOL = "duckdb_warehouse"


class QiangjiHome(dg.ConfigurableResource):
    """The data home (`QIANGJI_HOME`) and its landing folder (`QIANGJI_LANDING`); every path in it
    comes from `layout` (warehouse.layout.HomeLayout)."""

    home: str
    landing: str | None = None

    @property
    def layout(self) -> HomeLayout:
        return HomeLayout.at(self.home, self.landing)


class PseudonymKey(dg.ConfigurableResource):
    """The key of the ID pseudonym. The secret itself never enters Dagster's config: it comes from
    `QIANGJI_PSEUDONYM_KEY` or the file `QIANGJI_PSEUDONYM_KEY_FILE` names when a run loads it.
    With `demo` (`QIANGJI_DEMO=1`, `qiangji run --demo`) and neither set, the home's demo key.
    A key it refuses (empty, under 32 bytes, in a file others may read) fails the run: ingest.keys."""

    demo: int = 0

    def load(self, layout: HomeLayout) -> bytes:
        return load_key(layout.demo_key_file if self.demo else None)


class IngestLimits(dg.ConfigurableResource):
    """The limits and thresholds of the submission contract (ingest.settings.IngestSettings): the
    spec's defaults, each overridden by its `QIANGJI_*` variable when a run reads them. Not one
    `EnvVar` per field: Dagster's have no default and no float."""

    def settings(self) -> IngestSettings:
        return IngestSettings.from_env()


def build_resources() -> dict[str, object]:
    return {
        "qiangji": QiangjiHome(home=dg.EnvVar("QIANGJI_HOME"), landing=dg.EnvVar("QIANGJI_LANDING")),
        "pseudonym_key": PseudonymKey(demo=dg.EnvVar.int("QIANGJI_DEMO")),
        "ingest_limits": IngestLimits(),
        "dbt": dbt_cli_resource(),
    }
