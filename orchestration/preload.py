"""Importing a slow library in the background while a step waits for something else.

Great Expectations takes ≈ 5 s to import (scipy, pandas, altair; ≈ 12 s on a loaded machine), and
the GX suites run right after `dbt build`, which runs in a process of its own while the run's own
process only reads its events. Imported in a thread during the build, GX is ready when the suites
start (docs/performance.md). The import itself is the same: a failure there is ignored here and
raised where the module is used.
"""

from __future__ import annotations

import contextlib
import importlib
import threading


def import_in_background(module: str) -> threading.Thread:
    """Start importing `module` in a daemon thread; the thread (joined by nobody: an import that is
    still going when the module is needed holds its import lock, and the user waits for it there)."""

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name=f"import {module}", daemon=True)
    thread.start()
    return thread
