"""Where everything of a data home lives: the one place that spells out its folders and files.

<home>/landing/            submissions as districts send them (unless --landing names another folder)
<home>/archive/            every received file, byte for byte, by SHA-256
<home>/warehouse.duckdb    the live warehouse (one writer at a time)
<home>/published/          what BI tools read: marts.duckdb, parquet/, csv/, dashboard.html
<home>/quality/            GX results (gx/) and the offline Data Docs (data_docs/)
<home>/dagster/            the Dagster instance (DAGSTER_HOME), unless DAGSTER_HOME says otherwise
<home>/logs/               dbt's output of `qiangji run`
<home>/raw_parquet/        the raw tables as Parquet, for dbt on Spark (`qiangji export-raw`)
<home>/.pseudonym.key      the demo's local pseudonym key (`--demo` only)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The file names inside published/ (publish.py writes them; readers open them).
PUBLISHED_DATABASE = "marts.duckdb"
DASHBOARD = "dashboard.html"


@dataclass(frozen=True)
class HomeLayout:
    """The paths of a data home; `landing` defaults to `<home>/landing`."""

    home: Path
    landing_dir: Path | None = None

    @classmethod
    def at(cls, home: Path | str, landing: Path | str | None = None) -> HomeLayout:
        """The layout of `home` with absolute paths (resolved now, whatever the working folder later)."""
        return cls(Path(home).resolve(), Path(landing).resolve() if landing else None)

    @property
    def landing(self) -> Path:
        return self.landing_dir or self.home / "landing"

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.home / "published"

    @property
    def published_database(self) -> Path:
        return self.published / PUBLISHED_DATABASE

    @property
    def dashboard(self) -> Path:
        return self.published / DASHBOARD

    @property
    def quality(self) -> Path:
        return self.home / "quality"

    @property
    def data_docs(self) -> Path:
        return self.quality / "data_docs"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def raw_parquet(self) -> Path:
        return self.home / "raw_parquet"

    @property
    def demo_key_file(self) -> Path:
        return self.home / ".pseudonym.key"
