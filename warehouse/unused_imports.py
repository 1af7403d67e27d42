"""Packages a process of ours never uses, refused before anything imports them.

pandera imports pyspark and hypothesis when they are installed (the dev and spark extras: tests and
the Spark build), and Great Expectations its pyspark shim: ≈ 0.4 s in every reader and ≈ 0.6–1 s
before a `qiangji` command starts. The readers validate polars frames; the `qiangji` command runs
dbt, Spark included, in processes of its own; neither process generates test data.
"""

from __future__ import annotations

import sys

UNUSED = ("pyspark", "hypothesis")


def refuse_unused_imports() -> None:
    """From now on, in this process only, importing any of `UNUSED` fails as if it were not
    installed (which pandera and Great Expectations handle). Call it before they are imported."""
    for name in UNUSED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
