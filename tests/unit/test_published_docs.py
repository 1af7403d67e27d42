"""Every published model documents itself: an enforced contract, and every column described
`<中文标签> / <English description>` (the label is the header of the Chinese CSV and what BI tools show).

Read from the dbt project's YAML files, no dbt run: the descriptions become table and column comments
(dbt's persist_docs) that warehouse/publish.py copies into published/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from warehouse.audit import AUDIT_COLUMN_COMMENTS, AUDIT_SCHEMA, AUDIT_TABLE_COMMENT
from warehouse.publish import LABEL_SEPARATOR, PUBLISHED_MODELS, chinese_label

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
# a Chinese label, " / ", an English description; the label holds a CJK character, no "/" and no line break
DESCRIBED = re.compile(r"(?P<label>[^/\n]*[\u3400-\u9fff][^/\n]*?) / (?P<english>\S.*)", re.DOTALL)


def _model_properties() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted(MODELS.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            assert model["name"] not in found, f"{model['name']} is described twice"
            found[model["name"]] = {**model, "_path": path}
    return found


PROPERTIES = _model_properties()


def _problems(description: str | None) -> str | None:
    if not description or not description.strip():
        return "no description"
    if not DESCRIBED.fullmatch(description.strip()):
        return f"not '<中文标签>{LABEL_SEPARATOR}<English description>': {description.strip()[:60]!r}"
    return None


@pytest.mark.parametrize("model", PUBLISHED_MODELS)
def test_a_published_model_has_an_enforced_contract(model: str):
    assert model in PROPERTIES, f"{model}: no properties file under dbt_project/models"
    properties = PROPERTIES[model]
    config = {**properties.get("config", {})}
    assert config.get("contract", {}).get("enforced") is True, f"{properties['_path']}: contract not enforced"
    untyped = [c["name"] for c in properties.get("columns", []) if not c.get("data_type")]
    assert not untyped, f"{model}: columns without data_type: {untyped}"
    assert all("constraints" not in c for c in properties.get("columns", [])), (
        "portable contracts: no constraints"
    )


@pytest.mark.parametrize("model", PUBLISHED_MODELS)
def test_every_published_column_has_a_chinese_label_and_an_english_description(model: str):
    properties = PROPERTIES[model]
    problems = {"(model)": _problems(properties.get("description"))}
    columns = properties.get("columns", [])
    assert columns, f"{model}: no columns documented"
    problems |= {c["name"]: _problems(c.get("description")) for c in columns}
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, f"{properties['_path']}: {problems}"
    labels = [chinese_label(c["description"], c["name"]) for c in columns]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    assert not repeated, f"{model}: Chinese labels shared by two columns (one CSV header each): {repeated}"


def test_the_published_audit_trail_is_documented_the_same_way():
    assert set(AUDIT_COLUMN_COMMENTS) == set(AUDIT_SCHEMA)
    problems = {k: _problems(v) for k, v in {"(table)": AUDIT_TABLE_COMMENT, **AUDIT_COLUMN_COMMENTS}.items()}
    assert not {k: v for k, v in problems.items() if v}
    labels = [chinese_label(v, k) for k, v in AUDIT_COLUMN_COMMENTS.items()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize(
    ("description", "ok"),
    [
        ("填报单位代码 / GB/T 2260 code", True),
        ("目标达成情况（按现行区划） / Target attainment", True),
        ("district, county, system or city.", False),  # no Chinese label
        ("目标达成情况（按现行区划）/ Target", False),  # no space before the slash
        ("Status / 状态", False),  # the label must be Chinese
        ("状态 / ", False),  # no English description
        (None, False),
    ],
)
def test_the_rule(description, ok):
    assert (_problems(description) is None) is ok
    if ok:
        assert chinese_label(description, "x") == description.split(" / ")[0]
