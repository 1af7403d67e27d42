"""`qiangji rebuild`: a new warehouse from the archive alone, then the whole pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cli.console import DemoOption, HomeOption, LandingOption, console, fail
from cli.exit_codes import ExitCode
from warehouse.layout import HomeLayout


def rebuild(
    home: HomeOption = Path("data"),
    landing: LandingOption = None,
    demo: DemoOption = False,
) -> None:
    """Rebuild the warehouse from archive/ alone: replay every received file, in the order it came,
    under its name, with the key of this run; then build, check and publish everything.

    The warehouse in place (if any) is kept beside, renamed `*.before-rebuild-<time>`: nothing is
    deleted. Use it when the warehouse is lost or damaged, or to rotate the pseudonymization key
    (docs/security.md). Exits as `run` does: 2 without a key or an archive, 3 when the run failed or
    published nothing."""
    from cli.run import configure_home, require_key, run_configured

    require_key(demo)
    layout = HomeLayout.at(home, landing)
    if not layout.archive.is_dir():
        fail(f"no archive at {layout.archive}: nothing to rebuild from", ExitCode.USAGE)
    configure_home(layout, demo)
    kept = _set_aside(layout.warehouse)
    if kept:
        console.print(f"the previous warehouse is kept as {kept}", markup=False)
    from ingest.pipeline import ingest_landing
    from ingest.replay import replay_items
    from ingest.settings import IngestSettings
    from orchestration.resources import PseudonymKey

    items = replay_items(layout.archive)
    key = PseudonymKey(demo=int(demo)).load(layout)
    outcomes = ingest_landing(items, layout.warehouse, layout.archive, key, IngestSettings.from_env())
    statuses: dict[str, int] = {}
    for o in outcomes:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    console.print(
        f"replayed {len(items)} receipts from the archive: "
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    )
    run_configured(layout, full_rebuild=True)


def _set_aside(warehouse: Path) -> Path | None:
    if not warehouse.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = warehouse.with_name(f"{warehouse.name}.before-rebuild-{stamp}")
    warehouse.rename(target)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        wal.rename(target.with_name(target.name + ".wal"))
    return target
