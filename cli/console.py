"""What every command shares: the consoles, the `qiangji` logger, and the options naming a data home.

Results go to stdout (`console`, or plain `print` for machine-readable output); messages (notes,
warnings, errors) go through the logger `qiangji` to stderr, as plain text: never rich markup, so a
path or file name with brackets in it is shown as it is. `--verbose`/`--quiet` (options of `qiangji`
itself, before the command) set its level: `setup_logging`.
"""

from __future__ import annotations

import logging
import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated, ClassVar, NoReturn

import typer
from rich.console import Console

from cli.exit_codes import ExitCode

console = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)

LOGGER = "qiangji"
log = logging.getLogger(LOGGER)


class Verbosity(IntEnum):
    QUIET = -1  # errors only
    NORMAL = 0  # notes, warnings, errors
    VERBOSE = 1  # debug too, and Dagster's debug lines in `run`


_verbosity = Verbosity.NORMAL
_LEVELS = {Verbosity.QUIET: logging.ERROR, Verbosity.NORMAL: logging.INFO, Verbosity.VERBOSE: logging.DEBUG}


def verbosity() -> Verbosity:
    return _verbosity


class _StderrFormatter(logging.Formatter):
    """`warning: …` / `error: …` (notes unprefixed), the prefix colored on a terminal only."""

    PREFIXES: ClassVar[dict[int, tuple[str, str]]] = {
        logging.DEBUG: ("debug", "2"),
        logging.WARNING: ("warning", "33"),
        logging.ERROR: ("error", "31"),
    }

    def __init__(self, color: bool):
        super().__init__()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        level = max((lv for lv in self.PREFIXES if lv <= record.levelno), default=None)
        if level is None or record.levelno == logging.INFO:
            return text
        prefix, color = self.PREFIXES[level]
        return (f"\x1b[{color}m{prefix}\x1b[0m" if self.color else prefix) + ": " + text


class _StderrHandler(logging.Handler):
    """Writes to the sys.stderr of the moment (a test runner swaps it per invocation)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def setup_logging(level: Verbosity = Verbosity.NORMAL) -> None:
    """The logger `qiangji` on stderr at `level` (once per process; a second call replaces it)."""
    global _verbosity
    _verbosity = level
    for handler in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(_StderrFormatter(color=sys.stderr.isatty()))
    log.addHandler(handler)
    log.setLevel(_LEVELS[level])
    log.propagate = False


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Log `message` as an error and end the command with `code`."""
    log.error(message)
    raise typer.Exit(int(code))


HomeOption = Annotated[
    Path,
    typer.Option("--home", envvar="QIANGJI_HOME", help="data home: warehouse, archive, published marts"),
]
LandingOption = Annotated[
    Path | None,
    typer.Option(
        "--landing",
        envvar="QIANGJI_LANDING",
        show_default="<home>/landing",
        help="folder of submissions",
    ),
]
DemoOption = Annotated[
    bool,
    typer.Option(
        "--demo",
        envvar="QIANGJI_DEMO",
        help="allow a local pseudonymization key file (<home>/.pseudonym.key, created if missing)",
    ),
]
