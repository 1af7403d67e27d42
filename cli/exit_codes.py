"""The exit codes of every `qiangji` command: one table (README.md, "Exit codes").

- 0 done
- 1 the data is bad: `qiangji check` found a file the warehouse would reject
- 2 usage or setup error: a bad option, a missing input (file, folder, warehouse, published
  marts), no usable key, a bad `QIANGJI_PUBLISHED_MODE`, an unknown period or reporting unit
- 3 the run failed, or it published nothing (`run`, `rebuild`)

Rejected files and quarantined rows in a run that published are not a failure: the run reports them
and exits 0 (the warehouse keeps the previous accepted version; `check` is how a clerk finds them).
Click's own usage errors (an unknown option, a value not among the choices) exit 2 as well.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0
    BAD_DATA = 1
    USAGE = 2
    RUN_FAILED = 3


def run_exit_code(success: bool, published: bool) -> ExitCode:
    """A pipeline run's code: done only when it succeeded and published (rejected files do not count)."""
    return ExitCode.DONE if success and published else ExitCode.RUN_FAILED
