"""`qiangji check`: the district clerk's pre-check. Same reader and rules as ingest, no warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.markup import escape

from ingest.errors import Problem, StructuralError, empty_problems, message_columns
from ingest.read import read_submission
from ingest.settings import IngestSettings
from ingest.validate import validate_submission

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
    settings = settings or IngestSettings.from_env()
    try:
        raw = read_submission(path, settings)
        validated = validate_submission(raw, settings)
    except StructuralError as exc:
        return CheckReport(path.name, exc.problem, empty_problems(), {})
    return CheckReport(
        path.name,
        validated.rejection,
        validated.all_problems,
        {alias: frame.height for alias, frame in validated.frames.items()},
    )


def check_paths(paths: list[Path]) -> list[CheckReport]:
    settings = IngestSettings.from_env()
    return [check_path(p, settings) for p in paths]
