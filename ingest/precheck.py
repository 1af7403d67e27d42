"""`qiangji check`: the district clerk's pre-check. Same reader and rules as ingest, no warehouse."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.markup import escape

from ingest import archive
from ingest.errors import Problem, empty_problems, message_columns
from ingest.isolation import ReaderPool, reader_pool
from ingest.reader_worker import ReadTask
from ingest.settings import IngestSettings

SHOWN_PER_FILE = 200  # a person reads the first ones; the JSON output has them all


@dataclass
class CheckReport:
    file: str
    structural: Problem | None
    problems: pl.DataFrame  # row problems and warnings
    rows: dict[str, int]

    @property
    def accepted(self) -> bool:
        return self.structural is None

    @property
    def quarantined(self) -> int:
        rows = self.problems.filter(pl.col("severity") == "row").select("sheet", "row").unique()
        return rows.height

    def as_dict(self) -> dict[str, object]:
        problems = self.problems.with_columns(*message_columns())
        return {
            "file": self.file,
            "accepted": self.accepted,
            "structural_error": self.structural.as_dict() if self.structural else None,
            "rows": self.rows,
            "quarantined_rows": self.quarantined,
            "problems": [{"file": self.file, **p} for p in problems.to_dicts()],
        }

    def all_problems(self) -> list[Problem]:
        """The structural problem, if any, then every row problem and warning (not only those shown)."""
        rows = [Problem(file=self.file, **row) for row in self.problems.iter_rows(named=True)]
        return ([self.structural] if self.structural else []) + rows

    def print(self, console: Console) -> None:
        for p in ([self.structural] if self.structural else []) + _as_problems(self.file, self.problems):
            style = {"structural": "red", "row": "yellow", "warning": "cyan"}[p.severity]
            console.print(f"[{style}]{p.severity:>10}[/] {escape(str(p))}")
        verdict = "[green]would be accepted[/]" if self.accepted else "[red]would be REJECTED[/]"
        warnings = self.problems.filter(pl.col("severity") == "warning").height
        console.print(
            f"{escape(self.file)}: {verdict}; {sum(self.rows.values()):,} rows, "
            f"{self.quarantined} rows would be quarantined, {warnings} warnings"
        )


def _as_problems(file: str, frame: pl.DataFrame) -> list[Problem]:
    return [Problem(file=file, **row) for row in frame.head(SHOWN_PER_FILE).iter_rows(named=True)]


def check_path(path: Path, settings: IngestSettings | None = None) -> CheckReport:
    return check_paths([path], settings)[0]


def check_paths(
    paths: list[Path],
    settings: IngestSettings | None = None,
    on_done: Callable[[CheckReport], None] | None = None,
) -> list[CheckReport]:
    """Check files as ingest would: each read in a child process with the run's memory and time
    limits (`ingest.isolation`), so a file that crashes the reader gets its rule, not a trace."""
    settings = settings or IngestSettings.from_env()
    reports = []
    limits = (1, settings.reader_memory_bytes, settings.reader_timeout_seconds)
    with tempfile.TemporaryDirectory(prefix="qiangji-check-") as tmp, reader_pool(*limits) as pool:
        for i, path in enumerate(paths):
            reports.append(_check_one(pool, path, settings, Path(tmp) / str(i)))
            if on_done:
                on_done(reports[-1])
    return reports


def _check_one(pool: ReaderPool, path: Path, settings: IngestSettings, out_dir: Path) -> CheckReport:
    name = path.name
    if not archive.regular_or_folder(path):  # a link, a FIFO, a device: never opened
        return CheckReport(name, Problem(name, "not_a_regular_file", "structural"), empty_problems(), {})
    task = ReadTask(path, "check", CHECK_ONLY_KEY, settings, out_dir, store=False)
    result = pool.result(pool.submit(task))
    problems = pl.read_parquet(result.problems_path) if result.problems_path else empty_problems()
    if result.kind == "environment":
        raise OSError(f"{name}: the check could not read the file ({result.detail})")
    rejection = result.problem
    if rejection is not None:
        rejection = Problem(name, **{k: getattr(rejection, k) for k in _FIELDS})
        problems = problems.filter(pl.col("severity") != "structural")
    return CheckReport(name, rejection, problems, result.row_counts if rejection is None else {})


_FIELDS = ("rule", "severity", "sheet", "row", "column", "value")
CHECK_ONLY_KEY = b"qiangji check: nothing is pseudonymized or kept"
