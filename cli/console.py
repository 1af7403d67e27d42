"""What every command shares: the consoles and the options naming a data home."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)

HomeOption = Annotated[Path, typer.Option("--home", help="data home: warehouse, archive, published marts")]
LandingOption = Annotated[
    Path | None, typer.Option("--landing", help="folder of submissions [<home>/landing]")
]
