"""dbt's documentation site, published: `published/docs/index.html`, one self-contained page.

`dbt docs generate --static` writes the site as one file (the manifest and the catalog inlined), which
is copied next to the marts with the published mode, written aside and renamed into place like them.
It shows every model, column description, test and lineage, and the exposures (the dashboard, the
published files). The catalog holds the warehouse's column types and table statistics of DuckDB's
catalog; dbt-duckdb reads no rows for it, so the page carries no data values.

Not on every run: `dbt docs generate` parses the project and queries the warehouse's catalog (17-30 s
on two busy cores), and the page changes only when the project does. The digest of the prepared
manifest, without its `metadata` (generated_at and invocation_id change on every parse), is recorded
next to the page in `published/docs/.manifest.sha256`; the page is rewritten when that digest changed
or the page is missing. dbt runs only when no home generated the page of this manifest yet: the
generated page is kept in the project's target folder (`target/docs_site/<digest>.html`, the latest
only), and a new home (every test's, a second data home) copies it. The page holds the project and
the warehouse's column types, no data, so it may live outside a home; homes built from the same
manifest have the same types (the same SQL over the same raw tables). dbt writes its own
artifacts into a temporary folder, never into target/ (the manifest Dagster loads stays untouched).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.project import (
    PARTIAL_PARSE,
    QUIET_TELEMETRY,
    dbt_build_executable,
    dbt_project,
    dbt_project_dir,
    start_from_saved_parse,
)
from warehouse.publish import PublishedMode

DOCS_FOLDER = "docs"
SITE = "index.html"
DIGEST_FILE = ".manifest.sha256"
STATIC_PAGE = "static_index.html"  # what `dbt docs generate --static` writes into its target folder
CACHE_FOLDER = "docs_site"  # in the folder of the manifest (the project's target/): pages by digest


class DocsSiteError(RuntimeError):
    """`dbt docs generate` failed; its last lines of output are the message."""


@dataclass(frozen=True)
class DocsSite:
    path: Path  # published/docs/index.html
    regenerated: bool
    manifest_digest: str
    seconds: float = 0.0  # how long dbt took, when it ran
    ran_dbt: bool = False  # False: the page was current, or copied from the project's cache


def manifest_digest(manifest: Path) -> str:
    """SHA-256 of the manifest without its `metadata` (which changes on every parse)."""
    content = json.loads(manifest.read_bytes())
    content.pop("metadata", None)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def docs_site_path(published_dir: Path) -> Path:
    return published_dir / DOCS_FOLDER / SITE


def is_current(published_dir: Path, digest: str) -> bool:
    site = docs_site_path(published_dir)
    recorded = site.with_name(DIGEST_FILE)
    return site.is_file() and recorded.is_file() and recorded.read_text().strip() == digest


def cached_page(manifest: Path, digest: str) -> Path:
    """Where the page generated from this manifest is kept for other homes: next to the manifest
    (the project's target/), by digest."""
    return manifest.parent / CACHE_FOLDER / f"{digest}.html"


def build_docs_site(
    warehouse: Path,
    published_dir: Path,
    *,
    manifest: Path | None = None,
    mode: PublishedMode | None = None,
    force: bool = False,
) -> DocsSite:
    """published/docs/index.html, unless the page there was generated from the same manifest (default:
    the project's prepared one). Copied from the project's cache when another home generated it from
    this manifest, else (or with `force`) from `dbt docs generate --static` against `warehouse`, which
    opens the warehouse: the caller holds the warehouse's pool."""
    manifest = manifest or dbt_project().manifest_path
    digest = manifest_digest(manifest)
    site = docs_site_path(published_dir)
    if not force and is_current(published_dir, digest):
        return DocsSite(site, False, digest)
    cache = cached_page(manifest, digest)
    seconds = 0.0
    if force or not cache.is_file():
        seconds = _generate(warehouse, cache)
    mode = mode or PublishedMode.from_env()
    for folder in (published_dir, site.parent):
        folder.mkdir(exist_ok=True)
        mode.apply(folder)
    # the page first, then its digest: a failure between the two regenerates it next time
    _write_aside(site, cache.read_bytes(), mode)
    _write_aside(site.with_name(DIGEST_FILE), f"{digest}\n".encode(), mode)
    return DocsSite(site, True, digest, seconds, ran_dbt=seconds > 0)


def _write_aside(target: Path, content: bytes, mode: PublishedMode | None) -> None:
    """`content` written next to `target` and renamed over it (with `mode` first, if given)."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(content)
        if mode is not None:
            mode.apply(partial)  # before the rename: the file appears with its mode
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _generate(warehouse: Path, cache: Path) -> float:
    """`dbt docs generate --static` against `warehouse`, its page into `cache` (the other pages of the
    cache removed: one manifest is current); the seconds it took. dbt's artifacts go to a folder of
    their own: the project's manifest is never rewritten."""
    project_dir = str(dbt_project_dir())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qiangji-dbt-docs-") as scratch:
        target = Path(scratch) / "target"
        # from the project's parse, as a build (dbt started by `qiangji-dbt` in the warehouse's
        # folder: orchestration/dbt_entry.py), not a parse of the whole project (≈ 6 s)
        start_from_saved_parse(target, dbt_project_dir() / "target" / PARTIAL_PARSE)
        result = subprocess.run(
            [
                dbt_build_executable(), "docs", "generate", "--static",
                "--project-dir", project_dir, "--profiles-dir", project_dir,
                "--target-path", str(target), "--log-path", str(Path(scratch) / "logs"),
                "--quiet",
            ],
            env={**os.environ, **QUIET_TELEMETRY, "QIANGJI_WAREHOUSE": str(warehouse)},
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if result.returncode != 0 or not (target / STATIC_PAGE).is_file():
            raise DocsSiteError(
                f"dbt docs generate failed (exit {result.returncode}):\n"
                + "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
            )
        cache.parent.mkdir(parents=True, exist_ok=True)
        _write_aside(cache, (target / STATIC_PAGE).read_bytes(), None)
    for old in cache.parent.glob("*.html"):
        if old != cache:
            old.unlink(missing_ok=True)
    return time.perf_counter() - started
