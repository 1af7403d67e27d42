"""The dbt project must also build on Spark: no DuckDB-only syntax in models and macros."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
SQL_FILES = sorted([*DBT.glob("models/**/*.sql"), *DBT.glob("macros/**/*.sql")])

FORBIDDEN = {
    "`::` casts": re.compile(r"::"),
    "strftime": re.compile(r"\bstrftime\s*\(", re.IGNORECASE),
    "* exclude": re.compile(r"\*\s*exclude\b", re.IGNORECASE),
    "double-quoted identifiers": re.compile(r'"[A-Za-z_][A-Za-z0-9_]*"(?![^{]*}})'),
    "list literals": re.compile(r"(?<![\w)\]'])\[\s*(?:'|\d)"),
    "constraints": re.compile(r"\bconstraints\s*:"),
}


def _sql_without_jinja_and_comments(text: str) -> str:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", "JINJA", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def test_there_is_sql_to_check():
    assert len(SQL_FILES) > 30


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(DBT)))
def test_portable_sql(path: Path):
    sql = _sql_without_jinja_and_comments(path.read_text(encoding="utf-8"))
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(sql)]
    assert not found, f"{path.name}: {found}"


def test_contracts_carry_no_constraints():
    for yml in DBT.glob("models/**/*.yml"):
        assert "constraints:" not in yml.read_text(encoding="utf-8"), yml


def test_the_checker_catches_what_it_forbids():
    bad = "select a::int, strftime(d, '%Y'), \"Col\" from t where x in [1, 2]"
    assert {n for n, p in FORBIDDEN.items() if p.search(bad)} >= {
        "`::` casts", "strftime", "double-quoted identifiers", "list literals",
    }  # fmt: skip
