"""The dbt project as Dagster sees it: its `DbtProject`, how its manifest is prepared, how it builds.

The manifest is prepared before Dagster loads the definitions (`qiangji prepare`, the Makefile,
`qiangji run` and `qiangji dev`) through the project's preparer, never at import. dbt's partial
parsing decides what changed since the last parse (the file hashes in target/partial_parse.msgpack).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import yaml
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, DbtProjectPreparer

from warehouse.audit import audit_frame
from warehouse.reference import project_root

QUIET_TELEMETRY = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
}

# How the warehouse's `dbt build` runs wherever it is started (the Dagster asset, the benchmark);
# each is a default a user's own environment can override.
DBT_BUILD_ENV = {
    # A build of part of the models (a backfill from the UI splits them; the refresh after new
    # submissions) runs only the tests whose models are all built by then, not a relationship test
    # towards a model that does not exist yet. A full build runs them all.
    "DBT_INDIRECT_SELECTION": "buildable",
    # Unit tests check the metrics' SQL on fixed inputs, not the data: they run in CI (`make test`,
    # tests/integration/test_dbt_unit_tests.py) and on every `dbt build` a developer starts, not in
    # every build of the warehouse (dbt's own advice). Measured at scale 1.0: 32 unit tests, ≈3.5 s
    # of a 15 s build, the same on a resubmission of 85k rows as on the city's 2.2M.
    "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
    # dbt's own log file (in the invocation's target folder) at INFO, not DEBUG: DEBUG writes every
    # statement of every node, ≈ 2 s of a 15 s build of a few files (docs/performance.md); what a
    # run shows and keeps (<home>/logs/dbt.log, the step's events) is INFO anyway.
    "DBT_LOG_LEVEL_FILE": "info",
}

# After new submissions only the raw tables changed (not the seeds, not the project): a refresh
# builds the models that read them and everything downstream (the facts incrementally), with their
# tests. The selector lives in dbt_project/selectors.yml; the Dagster job `refresh_after_submissions`
# selects the same models from the asset graph (checked by tests/integration/test_orchestration.py).
REFRESH_SELECTOR = "refresh_after_submissions"

# A run tagged so (`qiangji run --full-rebuild`, or a launch from the UI with this tag) builds the
# incremental facts from scratch: needed once after a fact's columns changed (on_schema_change: fail).
FULL_REFRESH_TAG = "qiangji/full_refresh"


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def dbt_executable() -> str:
    """The venv's dbt, also when the venv is not on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_build_executable() -> str:
    """What the warehouse's builds start: `qiangji-dbt` (orchestration/dbt_entry.py), dbt in the
    warehouse's folder so that every home's build can start from the project's parse; the venv's
    dbt in a venv installed before it existed (then a home's first build parses the whole project)."""
    candidate = Path(sys.executable).with_name("qiangji-dbt")
    return str(candidate) if candidate.exists() else dbt_executable()


# The warehouse as the builds' dbt names it (orchestration/dbt_entry.py), and so as the project's
# parse is made: the profile, and with it the parse, is then the same for every home.
WAREHOUSE_FILE_NAME = "warehouse.duckdb"


# dbt parses again from scratch whenever its profile's connection differs from the one of the saved
# parse (`dbt.parser.manifest`: "Unable to do partial parsing because profile has changed"), and the
# warehouse's path is part of it: the project's parse is made for data/warehouse.duckdb, so every other
# home (QIANGJI_HOME, the tests', the benchmark's) paid a full parse, ≈ 6 s, on every build. Each home
# keeps the parse of its own warehouse (HomeLayout.dbt_parse); dbt still checks it against the project.
PARTIAL_PARSE = "partial_parse.msgpack"


def start_from_saved_parse(target: Path, saved: Path) -> bool:
    """Put the saved parse where a dbt invocation reads it (a build's: the home's, which dagster-dbt
    then leaves, copying the project's only into a folder that has none; the docs site's: the
    project's); False when there is none yet."""
    if not saved.is_file():
        return False
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(saved, target / PARTIAL_PARSE)
    return True


def dbt_build_env() -> dict[str, str]:
    """`DBT_BUILD_ENV` under the process's own settings: what a warehouse build's dbt sees."""
    return {**DBT_BUILD_ENV, **{k: os.environ[k] for k in DBT_BUILD_ENV if k in os.environ}}


def build_args(tags: Mapping[str, str]) -> list[str]:
    """The dbt command of a run: `build`, from scratch when the run is tagged `FULL_REFRESH_TAG`."""
    return ["build", "--full-refresh"] if tags.get(FULL_REFRESH_TAG) == "true" else ["build"]


def dbt_cli_resource() -> DbtCliResource:
    from orchestration.internals import QiangjiDbtCliResource

    project_dir = str(dbt_project_dir())
    return QiangjiDbtCliResource(
        project_dir=project_dir, profiles_dir=project_dir, dbt_executable=dbt_build_executable()
    )


class ParsePreparer(DbtProjectPreparer):
    """Prepares the manifest with `dbt parse` through the venv's dbt, quiet and offline.

    `prepare` always parses (`qiangji prepare`, the Makefile). `prepare_if_dev`, which `qiangji run`
    and `qiangji dev` call before loading the definitions, parses only when a file of the project is
    newer than the manifest, the rule make applies to the same files. Not a parse on every run: that
    costs ≈3.4 s even with dbt's partial parsing, and dbt rewrites manifest.json in place, so a
    second `qiangji run` starting meanwhile could load half a manifest.
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if _manifest_is_stale(project):
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        # dbt's profile names the warehouse, and the parse serves only builds of the same profile:
        # the name every build's dbt uses (orchestration/dbt_entry.py). Parsing opens no connection.
        env = {**os.environ, "QIANGJI_WAREHOUSE": WAREHOUSE_FILE_NAME}
        folder = str(project.project_dir)
        subprocess.run(
            [dbt_executable(), "parse", "--project-dir", folder, "--profiles-dir", folder, "--quiet"],
            check=True,
            env={**env, **QUIET_TELEMETRY},
            cwd=folder,
        )
        project.manifest_path.touch()  # parsed now, whatever dbt's partial parsing left unwritten


# The project's files, as the Makefile lists them for its manifest target.
PROJECT_FOLDERS = ("models", "seeds", "macros", "tests")
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "selectors.yml")


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    folder = Path(project.project_dir)
    sources = [folder / name for name in PROJECT_FILES]
    for sub in PROJECT_FOLDERS:
        sources += [p for p in (folder / sub).rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in sources if p.exists())


@cache
def dbt_project() -> DbtProject:
    project_dir = dbt_project_dir()
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir)


# dagster-dbt 0.29 takes no preparer in DbtProject's constructor: the project's preparer is this one.
PREPARER = ParsePreparer()


def prepare_dbt(force: bool = False) -> Path:
    """The dbt project's manifest, parsed when the project changed (or with `force`); called when a
    command starts, never at import."""
    project = dbt_project()
    if force:
        PREPARER.prepare(project)
    else:
        PREPARER.prepare_if_dev(project)
    return project.manifest_path


# The catalog's owners (Dagster wants e-mails or `team:<name>`): data engineering answers for every
# asset it builds (ingest, dbt, the quality checks, publishing); the programme office co-owns what
# is published, the numbers BI readers see (orchestration/defs/publish.py).
DATA_ENGINEERING = "team:data-engineering"
PROGRAMME_OFFICE = "team:programme-office"
# Tags every asset carries: `layer`, and `contains_member_rows` — "true" for what holds a row per
# party member (raw tables, staging, member-level facts), so nobody publishes it.
LAYER_TAG = "layer"
MEMBER_ROWS_TAG = "contains_member_rows"
# A model holds member rows when one of its documented columns is the member's pseudonym.
MEMBER_COLUMN = "person_key"


def catalog_tags(layer: str, member_rows: bool, **extra: str) -> dict[str, str]:
    return {LAYER_TAG: layer, MEMBER_ROWS_TAG: "true" if member_rows else "false", **extra}


# Config keys that do not change what a node builds: left out of its code version.
_COSMETIC_CONFIG = ("docs", "meta", "tags", "group")
# `var('name'` / `var("name"` in SQL or Jinja; `var(` followed by anything else is a var whose name
# is computed, which could be any of them.
_VAR_CALL = re.compile(r"""\bvar\(\s*(?:(['"])([^'"]+)\1|(.))""")


def project_vars(project: DbtProject | None) -> dict[str, Any]:
    """The `vars` of the project's dbt_project.yml (the manifest does not record them)."""
    if project is None:
        return {}
    path = Path(project.project_dir) / "dbt_project.yml"
    return _vars_of(str(path), path.stat().st_mtime_ns) if path.exists() else {}


@cache
def _vars_of(path: str, _mtime_ns: int) -> dict[str, Any]:
    return dict((yaml.safe_load(Path(path).read_text()) or {}).get("vars") or {})


def macro_closure(manifest: Mapping[str, Any], macros: list[str]) -> list[str]:
    """Every macro `macros` call, transitively (dbt records each macro's own calls, dispatch
    resolved for the parsing adapter)."""
    known = manifest.get("macros", {})
    seen: set[str] = set()
    todo = list(macros)
    while todo:
        unique_id = todo.pop()
        if unique_id in seen:
            continue
        seen.add(unique_id)
        todo += (known.get(unique_id) or {}).get("depends_on", {}).get("macros", [])
    return sorted(seen)


def node_code_version(
    manifest: Mapping[str, Any], props: Mapping[str, Any], variables: Mapping[str, Any]
) -> str:
    """What a dbt node's build depends on besides its inputs' data, hashed: its file (checksum),
    the SQL of every macro it calls transitively, the project vars its code or those macros name
    (all of them when a var's name is computed), its config (seeds: column_types, quote_columns…;
    models: materialization, incremental strategy…) and its columns' contract (types, constraints).

    dagster-dbt's default hashes the node's own SQL only: a changed macro, var or seed config would
    leave the code version, and so `stale_for_refresh` (automation.py), blind to it."""
    macros = macro_closure(manifest, list(props.get("depends_on", {}).get("macros", [])))
    sources = {m: (manifest.get("macros", {}).get(m) or {}).get("macro_sql", "") for m in macros}
    code = "\n".join([props.get("raw_code") or "", *sources.values()])
    names = set()
    for match in _VAR_CALL.finditer(code):
        if match.group(2) is None:  # var(<expression>): any var
            names = set(variables)
            break
        names.add(match.group(2))
    config = {k: v for k, v in (props.get("config") or {}).items() if k not in _COSMETIC_CONFIG}
    columns = {
        name: {k: column.get(k) for k in ("data_type", "constraints", "quote")}
        for name, column in (props.get("columns") or {}).items()
    }
    persisted = (props.get("config") or {}).get("persist_docs") or {}
    described = {
        "relation": props.get("description") if persisted.get("relation") else None,
        "columns": {n: c.get("description") for n, c in (props.get("columns") or {}).items()}
        if persisted.get("columns")
        else None,
    }
    payload = {
        "checksum": (props.get("checksum") or {}).get("checksum"),
        "macros": sources,
        "vars": {n: variables[n] for n in sorted(names) if n in variables},
        "config": config,
        "columns": columns,
        "constraints": props.get("constraints") or [],
        "persisted_docs": described,  # comments written into the warehouse (persist_docs)
    }
    encoded = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:24]


class QiangjiTranslator(DagsterDbtTranslator):
    """Groups by the folder under models/ (staging, intermediate, core, metrics, marts), so the graph
    reads as the data flows; seeds are `reference`. Every model and seed gets its owners and the
    catalog's tags, and a code version that also changes with the macros, vars and config it uses
    (`node_code_version`)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        return list(super().get_owners(dbt_resource_props) or [DATA_ENGINEERING])

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        if dbt_resource_props["resource_type"] not in ("model", "seed", "snapshot"):
            return tags
        layer = self.get_group_name(dbt_resource_props) or "dbt"
        meta = dbt_resource_props.get("meta") or {}
        member_rows = meta.get(MEMBER_ROWS_TAG)
        if member_rows is None:
            member_rows = layer == "staging" or MEMBER_COLUMN in (dbt_resource_props.get("columns") or {})
        return {**tags, **catalog_tags(layer, bool(member_rows))}

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props.get("resource_type") not in ("model", "seed", "snapshot"):
            return spec
        if not hasattr(self, "_code_versions"):
            self._code_versions: dict[tuple[int, str, int], str] = {}
        memo = (id(manifest), unique_id, id(project))
        if memo not in self._code_versions:
            self._code_versions[memo] = node_code_version(manifest, props, project_vars(project))
        return spec.replace_attributes(code_version=self._code_versions[memo])


def dbt_rows(run_results: Mapping[str, Any], run_id: str, checked_at: dt.datetime) -> pl.DataFrame:
    """The dbt layer's rows of the audit trail: every dbt test (data and unit tests) of a `dbt build`,
    from its run_results.json."""
    rows = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith(("test.", "unit_test.")):
            continue
        status = str(result.get("status"))
        parts = unique_id.split(".")  # test.<project>.<name>.<hash> | unit_test.<project>.<model>.<name>
        is_unit = unique_id.startswith("unit_test.")
        rows.append(
            {
                "run_id": run_id,
                "checked_at": checked_at,
                "layer": "dbt",
                "check_name": f"{parts[2]}::{parts[3]}" if is_unit else parts[2],
                "asset": parts[2] if is_unit else None,
                "district_code": None,
                "period": None,
                "submission_id": None,
                "passed": status == "pass",
                "failing_count": int(result.get("failures") or 0) if status != "pass" else 0,
                "severity": "warning" if status == "warn" else "blocking",
                "details": (result.get("message") or None) if status != "pass" else None,
            }
        )
    return audit_frame(rows)
