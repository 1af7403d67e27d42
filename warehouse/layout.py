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

Everything in a home is its owner's only (`HomeLayout.make_private`), except published/ (its mode
is the deployment's choice: warehouse.publish.PublishedMode) and a landing folder, which belongs to
whoever uploads into it. docs/security.md.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

# The file names inside published/ (publish.py writes them; readers open them).
PUBLISHED_DATABASE = "marts.duckdb"
DASHBOARD = "dashboard.html"

# The mode of every folder of a home but published/ and landing/: its owner's only.
OWNER_ONLY = 0o700


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
    def gap_lists(self) -> Path:
        """published/gaps/: each reporting unit's gap list, as a page (<code>.html, the dashboard's
        cells link to it) and a workbook (<code>_<name>.xlsx, for the district office)."""
        return self.published / "gaps"

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
    def dbt_parse(self) -> Path:
        """dbt's parse of the project for this home's warehouse (orchestration/defs/transform.py)."""
        return self.home / "dbt" / "partial_parse.msgpack"

    @property
    def raw_parquet(self) -> Path:
        return self.home / "raw_parquet"

    @property
    def demo_key_file(self) -> Path:
        return self.home / ".pseudonym.key"

    def private_folders(self, dagster_home: Path | None = None) -> list[Path]:
        """The folders `make_private` keeps owner-only (the home itself first)."""
        return [
            self.home,
            self.archive,
            self.quality,
            self.data_docs,
            dagster_home or self.dagster_home,
            self.logs,
            self.raw_parquet,
        ]

    def make_private(self, dagster_home: Path | None = None, published_mode: int = OWNER_ONLY) -> None:
        """Create the home and its folders owner-only (0700); tighten those that exist with wider modes.

        `dagster_home`: the Dagster instance's folder when DAGSTER_HOME puts it elsewhere.
        `published_mode`: the mode of published/ (warehouse.publish.PublishedMode). Whoever it lets
        read published/ must be able to pass through the home to reach it, so the home gets their
        search bit (x) too, and only that: they cannot list the home, and nothing else in it is
        theirs, since the home's other entries, whatever made them, are tightened to owner-only here
        (published/ and a landing folder inside the home excepted).
        """
        home_mode = OWNER_ONLY | (published_mode & 0o011)
        for folder in self.private_folders(dagster_home):
            _private_folder(folder, home_mode if folder == self.home else OWNER_ONLY)
        spared = {self.published, self.landing}
        for entry in self.home.iterdir():
            if entry not in spared:
                _strip_group_and_others(entry)


def _private_folder(folder: Path, mode: int) -> None:
    folder.mkdir(mode=mode, parents=True, exist_ok=True)  # parents: with the process's umask
    info = folder.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != mode:
        os.chmod(folder, mode)


def _strip_group_and_others(entry: Path) -> None:
    """`entry` without its group's and others' permissions, if it is this user's (symlinks left as
    they are: their own mode means nothing, and what they point to is not the home's)."""
    try:
        info = entry.lstat()
    except FileNotFoundError:  # gone meanwhile (a partial file renamed into place)
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        try:
            os.chmod(entry, mode & ~0o077)
        except FileNotFoundError:
            pass
