"""`qiangji dev`: the Dagster UI and daemon on 127.0.0.1 with this project loaded."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.console import DemoOption, HomeOption, LandingOption
from warehouse.layout import HomeLayout


def dev(
    home: HomeOption = Path("data"),
    landing: LandingOption = None,
    port: Annotated[int, typer.Option("--port", help="the UI's port on 127.0.0.1")] = 3000,
    demo: DemoOption = False,
) -> None:
    """The Dagster UI and daemon on 127.0.0.1 with this project loaded.

    Exits 2 on a bad QIANGJI_PUBLISHED_MODE; else it becomes `dagster dev` (its exit code is Dagster's)."""
    from cli.run import configure_home
    from orchestration.project import prepare_dbt

    # from here on, what Dagster's processes create is owner-only (umask 077, inherited)
    configure_home(HomeLayout.at(home, landing), demo)
    prepare_dbt()
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(
        str(dagster),
        [str(dagster), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
    )
