"""The dbt project must also build on Spark: no DuckDB-only syntax in models and macros."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
SQL_FILES = sorted([*DBT.glob("models/**/*.sql"), *DBT.glob("macros/**/*.sql"), *DBT.glob("tests/**/*.sql")])

FORBIDDEN = {
    "`::` casts": re.compile(r"::"),
    "strftime": re.compile(r"\bstrftime\s*\(", re.IGNORECASE),
    "* exclude": re.compile(r"\*\s*exclude\b", re.IGNORECASE),
    "double-quoted identifiers": re.compile(r'"[A-Za-z_][A-Za-z0-9_]*"(?![^{]*}})'),
    "list literals": re.compile(r"(?<![\w)\]'])\[\s*(?:'|\d)"),
    "constraints": re.compile(r"\bconstraints\s*:"),
    "qualify (not in Spark SQL)": re.compile(r"\bqualify\b", re.IGNORECASE),
    "group by all / order by all": re.compile(r"\b(?:group|order)\s+by\s+all\b", re.IGNORECASE),
    "DuckDB-only functions": re.compile(
        r"\b(?:strptime|string_agg|list_\w+|epoch_ms|regexp_matches|date_diff|date_part)\s*\(", re.IGNORECASE
    ),
}
# What dbt's cross-database macros are for: called directly, these differ between the engines
# (the project's own overrides in macros/cross_database are where they belong).
DIRECT_CROSS_DATABASE = re.compile(
    r"\b(?:try_cast|datediff|dateadd|timestampadd|listagg)\s*\(", re.IGNORECASE
)
OVERRIDES = DBT / "macros" / "cross_database"


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


@pytest.mark.parametrize(
    "path", [p for p in SQL_FILES if OVERRIDES not in p.parents], ids=lambda p: str(p.relative_to(DBT))
)
def test_cross_database_functions_go_through_dbt_macros(path: Path):
    sql = _sql_without_jinja_and_comments(path.read_text(encoding="utf-8"))
    assert not DIRECT_CROSS_DATABASE.search(sql), f"{path.name}: use dbt.safe_cast/datediff/dateadd/listagg"


def test_incremental_models_select_their_batch():
    """An incremental fact without fact_batch() would insert every row again on each run."""
    incremental = [p for p in SQL_FILES if "incremental_fact()" in p.read_text(encoding="utf-8")]
    assert {p.stem for p in incremental} >= {"fct_member_snapshot", "fct_unit_snapshot", "fct_admission"}
    for path in incremental:
        assert "fact_batch(" in path.read_text(encoding="utf-8"), path.name


def test_contracts_carry_no_constraints():
    for yml in DBT.glob("models/**/*.yml"):
        assert "constraints:" not in yml.read_text(encoding="utf-8"), yml


def test_the_checker_catches_what_it_forbids():
    bad = "select a::int, strftime(d, '%Y'), \"Col\", string_agg(x) from t where x in [1, 2] qualify y"
    assert {n for n, p in FORBIDDEN.items() if p.search(bad)} >= {
        "`::` casts", "strftime", "double-quoted identifiers", "list literals", "DuckDB-only functions",
        "qualify (not in Spark SQL)",
    }  # fmt: skip
    assert DIRECT_CROSS_DATABASE.search("select try_cast(x as int)")
