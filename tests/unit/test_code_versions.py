"""A dbt asset's code version changes with what its build depends on besides its data — its file, the
macros it calls (transitively), the vars it names, its config — and only for the nodes that use it:
`stale_for_refresh` (orchestration/defs/automation.py) compares it with what built the seeds."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from dagster_dbt import DbtProject

from orchestration.project import QiangjiTranslator, dbt_project, macro_closure, prepare_dbt


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(prepare_dbt().read_text())


def _project(folder: Path, variables: dict) -> DbtProject:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dbt_project.yml").write_text(json.dumps({"name": "qiangji", "vars": variables}))
    return DbtProject(project_dir=folder)


def _versions(manifest: dict, project: DbtProject | None) -> dict[str, str]:
    translator = QiangjiTranslator()
    return {
        uid: translator.get_asset_spec(manifest, uid, project).code_version
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {uid for uid in before if before[uid] != after[uid]}


def test_a_macro_change_changes_the_models_that_call_it_and_only_them(manifest):
    before = _versions(manifest, dbt_project())
    changed = copy.deepcopy(manifest)
    macro = changed["macros"]["macro.qiangji.target_attainment"]
    macro["macro_sql"] += "\n{# a change of the status rule #}"
    callers = {
        uid
        for uid, node in manifest["nodes"].items()
        if "macro.qiangji.target_attainment" in node["depends_on"].get("macros", [])
    }
    assert "model.qiangji.mart_target_attainment" in callers
    assert _changed(before, _versions(changed, dbt_project())) == callers & set(before)
    # dagster-dbt's default (the node's own SQL) would not have seen it
    assert all(before[uid] is not None for uid in before)


def test_a_macro_called_through_another_counts_too(manifest):
    """`macro.dbt.type_string` is called by project macros; a change of what it dispatches to reaches
    every model calling one of them."""
    before = _versions(manifest, dbt_project())
    changed = copy.deepcopy(manifest)
    changed["macros"]["macro.dbt.default__type_string"]["macro_sql"] += " "
    after = _versions(changed, dbt_project())
    callers = {
        uid
        for uid in before
        if "macro.dbt.default__type_string"
        in macro_closure(manifest, manifest["nodes"][uid]["depends_on"].get("macros", []))
    }
    assert "model.qiangji.mart_target_attainment" in callers  # via target_attainment, type_string
    assert _changed(before, after) == callers
    assert "seed.qiangji.targets" not in callers and len(callers) < len(before)  # not everything


def test_a_var_change_changes_the_models_naming_it_and_only_them(manifest, tmp_path):
    variables = {"dev_age_limit": 35, "training_days_threshold": 10, "submission_due_days": 31}
    before = _versions(manifest, _project(tmp_path / "a", variables))
    after = _versions(manifest, _project(tmp_path / "b", {**variables, "dev_age_limit": 40}))
    readers = {
        uid
        for uid, node in manifest["nodes"].items()
        # a call of var('dev_age_limit'), not the name in a comment
        if uid in before and re.search(r"""var\(\s*['"]dev_age_limit['"]""", node.get("raw_code") or "")
    }
    assert "model.qiangji.int_target_items__dev_under35" in readers
    assert _changed(before, after) == readers


def test_a_seed_config_change_changes_that_seed_only(manifest):
    before = _versions(manifest, dbt_project())
    changed = copy.deepcopy(manifest)
    changed["nodes"]["seed.qiangji.targets"]["config"]["column_types"]["sort_order"] = "bigint"
    assert _changed(before, _versions(changed, dbt_project())) == {"seed.qiangji.targets"}
    quoted = copy.deepcopy(manifest)
    quoted["nodes"]["seed.qiangji.periods"]["config"]["quote_columns"] = True
    assert _changed(before, _versions(quoted, dbt_project())) == {"seed.qiangji.periods"}


def test_the_code_version_is_stable_and_ignores_what_does_not_build(manifest):
    first, second = _versions(manifest, dbt_project()), _versions(copy.deepcopy(manifest), dbt_project())
    assert first == second
    changed = copy.deepcopy(manifest)
    changed["nodes"]["model.qiangji.mart_target_attainment"]["config"]["meta"] = {"note": "docs only"}
    assert not _changed(first, _versions(changed, dbt_project()))
