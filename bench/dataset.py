"""Generated city-scale submissions for the benchmark, cached by scale, seed, period and generator.

Generating the city (scale 1.0) takes minutes, so the files are kept under `bench/.cache/`
(git-ignored), in a folder named by everything that decides their bytes: the scale, the seed,
the period and a hash of the generator's source. A changed generator gets a new folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
DEFAULT_PERIOD = "2010H2"
DEFAULT_SEED = 2006


@dataclass(frozen=True)
class Dataset:
    """One period's submissions in both containers: `xlsx/` workbooks and `zip/` zips of CSVs."""

    root: Path
    scale: float
    period: str
    rows: dict[str, int]

    @property
    def xlsx(self) -> Path:
        return self.root / "xlsx"

    @property
    def zip(self) -> Path:
        return self.root / "zip"

    @property
    def resubmission(self) -> Path:
        """One district's corrected workbook, `<code>_<period>_v2.xlsx` (see `write_resubmission`)."""
        return next((self.root / "resubmission").glob("*_v2.xlsx"))

    def files(self, container: str) -> list[Path]:
        folder = self.xlsx if container == "xlsx" else self.zip
        return sorted(p for p in folder.iterdir() if p.suffix in (".xlsx", ".zip"))


def generator_version() -> str:
    """A short hash of the generator's source and the format spec: what decides the files' bytes."""
    import generator
    import ingest.spec

    package = Path(generator.__file__).parent
    h = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), Path(ingest.spec.__file__)]):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:10]


def ensure_dataset(
    scale: float,
    seed: int = DEFAULT_SEED,
    period: str = DEFAULT_PERIOD,
    cache_dir: Path = CACHE_DIR,
) -> Dataset:
    """The cached dataset, generated first if it is not there (written aside, renamed into place)."""
    from generator import generate_submissions

    root = cache_dir / f"scale{scale:g}-seed{seed}-{period}-gen{generator_version()}"
    done = root / "rows.json"
    if not done.exists():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        summary = generate_submissions(
            partial / "xlsx", period, period, scale=scale, seed=seed, zip_dir=partial / "zip"
        )
        write_resubmission(partial, period, scale, seed)
        (partial / "rows.json").write_text(
            json.dumps({"rows": summary.rows, "seconds": round(summary.seconds, 1)}, indent=1)
        )
        shutil.rmtree(root, ignore_errors=True)
        partial.rename(root)
    rows = json.loads(done.read_text())["rows"]
    return Dataset(root, scale, period, rows)


def write_resubmission(root: Path, period: str, scale: float, seed: int) -> Path:
    """A district's correction: its workbook again as `_v2`, with changed figures.

    The district is the median one by workbook size (a typical district, not the largest).
    The correction raises the staff count of its first 100 host units that report one and is
    dated three days later: new bytes, the same number of rows, so its cost is the district's.
    """
    import polars as pl

    from generator.periods import period_index
    from generator.snapshot import build_submission, sources_of
    from generator.universe import Universe
    from generator.xlsx import write_submission

    workbooks = sorted((root / "xlsx").glob("1*.xlsx"), key=lambda p: (p.stat().st_size, p.name))
    district = workbooks[len(workbooks) // 2].name.split("_")[0]
    t = period_index(period)
    universes = {ru.code: Universe(ru, t + 1, scale, seed) for ru in sources_of(district)}
    sub = build_submission(district, t, universes)
    units = sub.tables["units"]
    fixed = pl.int_range(pl.len()) < 100
    units = units.with_columns(
        pl.when(fixed & pl.col("employee_count").is_not_null())
        .then(pl.col("employee_count") + 1)
        .otherwise(pl.col("employee_count"))
        .alias("employee_count")
    )
    sub.tables["units"] = units
    sub.submitted += 3
    out = root / "resubmission" / f"{district}_{period}_v2.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_submission(out, sub)
    return out


# The user's path (`qiangji run` on a fresh home): the demo `make run` generates, and a handful of its
# files (the first reporting units' last period), as a clerk's first try or a small district's day.
SMALL_FILES = 6


@dataclass(frozen=True)
class UserPathData:
    """The demo's submissions (every reporting unit and period, the demo's scale) and a small set."""

    root: Path

    @property
    def demo(self) -> list[Path]:
        return sorted((self.root / "demo").glob("*.xlsx"))

    @property
    def small(self) -> list[Path]:
        last = max(p.stem.split("_")[1] for p in self.demo)
        return [p for p in self.demo if p.stem.split("_")[1] == last][:SMALL_FILES]


def ensure_user_path_data(cache_dir: Path = CACHE_DIR) -> UserPathData:
    """The demo's submissions as `qiangji generate` writes them by default, cached like the city's."""
    from generator import generate_submissions

    root = cache_dir / f"demo-gen{generator_version()}"
    if not (root / "done").exists():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        generate_submissions(partial / "demo", truth_path=partial / "ground_truth.csv")
        (partial / "done").write_text("")
        shutil.rmtree(root, ignore_errors=True)
        partial.rename(root)
    return UserPathData(root)
