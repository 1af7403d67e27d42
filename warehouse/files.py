"""Files that appear whole or not at all: written aside, then renamed into place.

A reader (a run starting meanwhile, a BI tool, the next build) never sees half a file: the content
goes to `.<name>.<pid>.partial` beside the target and `os.replace` puts it in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def partial_path(target: Path) -> Path:
    """Where `target` is written before it is renamed into place (same folder, this process's)."""
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


def copy_into_place(source: Path, target: Path) -> None:
    """`source` copied to `target`, whole or not at all."""
    partial = partial_path(target)
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def write_text_into_place(target: Path, text: str) -> None:
    """`text` written to `target` (UTF-8), whole or not at all."""
    partial = partial_path(target)
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
