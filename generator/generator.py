"""generate_submissions: every reporting unit's workbook for a range of periods, plus ground truth."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest import spec

from ._units import reporting_units
from .csvzip import write_submission_zip
from .faults import fault_base, write_faults
from .periods import period_index, period_label
from .snapshot import build_submission, reporter_at, sources_of
from .truth import Figures, ground_truth_rows, submission_figures, write_ground_truth
from .universe import Universe
from .xlsx import write_submission

DEFAULT_SCALE = 0.007  # ~7k members a half-year city-wide; 2006H1..2010H2 in about 14 s (2 cores)
GROUND_TRUTH_FILE = "ground_truth.csv"


@dataclass
class GenerationSummary:
    files: list[Path]
    members: int  # member rows written, all files
    ground_truth_path: Path
    rows: dict[str, int] = field(default_factory=dict)  # rows written per sheet alias, all files
    periods: list[str] = field(default_factory=list)
    seconds: float = 0.0


def default_truth_path(out_dir: Path) -> Path:
    """`<out_dir>/../ground_truth.csv`: beside the landing folder (in `make run`'s home, data/), so
    the demo's first run has nothing to reject."""
    return Path(out_dir).absolute().parent / GROUND_TRUTH_FILE


def generate_submissions(
    out_dir: Path,
    first_period: str = "2006H1",
    last_period: str = "2010H2",
    scale: float = DEFAULT_SCALE,
    seed: int = 2006,
    progress: Callable[[int, int], None] | None = None,
    faults: bool = False,
    zip_dir: Path | None = None,
    truth_path: Path | None = None,
) -> GenerationSummary:
    """Write `<code>_<period>.xlsx` for every reporting unit and period it reports in.

    The world is simulated from 2006H1 so a period's content does not depend on first_period;
    only the periods first_period..last_period are written. The same arguments give the same
    bytes. scale 1.0 is the city's size (about 1M members). `faults`: also write files with known
    defects and their manifest into `out_dir/faults/` (see `faults.py`); the rest is unchanged.
    `zip_dir`: also write every submission as a zip of CSVs there (same content, the other container).
    `truth_path`: where the ground truth goes; by default `ground_truth.csv` beside `out_dir`
    (`default_truth_path`), never inside it: a landing folder holds submissions only.
    """
    began = time.perf_counter()
    if scale <= 0:
        raise ValueError("scale must be positive")
    first, last = period_index(first_period), period_index(last_period)
    if last < first:
        raise ValueError(f"{last_period} is before {first_period}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if zip_dir is not None:
        Path(zip_dir).mkdir(parents=True, exist_ok=True)
    horizon = last + 1
    units = reporting_units()
    jobs = [(ru.code, t) for t in range(first, horizon) for ru in units if reporter_at(ru.code, t) == ru.code]
    universes: dict[str, Universe] = {}
    for reporter, _ in jobs:
        for ru in sources_of(reporter):
            if ru.code not in universes and period_index(str(ru.reports_from)) < horizon:
                universes[ru.code] = Universe(ru, horizon, scale, seed)

    files: list[Path] = []
    rows = {sheet.alias: 0 for sheet in spec.DATA_SHEETS}
    figures: dict[tuple[str, str], dict[str, Figures]] = {}
    for done, (reporter, t) in enumerate(jobs, start=1):
        sub = build_submission(reporter, t, universes)
        path = out_dir / f"{reporter}_{sub.period}.xlsx"
        write_submission(path, sub)
        if zip_dir is not None:
            write_submission_zip(Path(zip_dir) / f"{reporter}_{sub.period}.zip", sub)
        files.append(path)
        for alias, frame in sub.tables.items():
            rows[alias] += frame.height
        figures[(reporter, sub.period)] = submission_figures(sub)
        if progress is not None:
            progress(done, len(jobs))

    periods = [period_label(t) for t in range(first, horizon)]
    truth_path = Path(truth_path) if truth_path is not None else default_truth_path(out_dir)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    write_ground_truth(truth_path, ground_truth_rows(figures, periods, [u.code for u in units]))
    if faults:
        write_faults(out_dir, build_submission(*fault_base(jobs), universes), seed)
    return GenerationSummary(
        files=files,
        members=rows[spec.MEMBERS.alias],
        ground_truth_path=truth_path,
        rows=rows,
        periods=periods,
        seconds=time.perf_counter() - began,
    )
