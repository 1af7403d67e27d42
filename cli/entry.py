"""The `qiangji` executable: the command line (`cli.app`) in a process that never imports what it
does not use (warehouse/unused_imports.py). Tests call `cli.app.app` in their own process instead."""

from __future__ import annotations

from warehouse.unused_imports import refuse_unused_imports


def main() -> None:
    refuse_unused_imports()  # before cli.app imports pandera (through ingest) and Dagster
    from cli.app import app

    app()
