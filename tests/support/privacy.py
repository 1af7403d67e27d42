"""What a privacy scan looks for (every national ID and name of the input) and where it looks."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import fastexcel


def identities(landing: Path) -> tuple[set[str], set[str]]:
    """Every national ID and name (member, secretary, clerk) in the landing folder's workbooks."""
    ids, names = set(), set()
    columns = {
        "党员": ("公民身份号码", "姓名"),
        "组织": (None, "书记姓名"),
        "发展党员": ("公民身份号码", None),
    }
    for path in landing.iterdir():
        if path.suffix.lower() != ".xlsx":
            continue
        try:
            reader = fastexcel.read_excel(str(path))
        except Exception:  # the faulty files a reader cannot open hold no identity to leak
            continue
        for sheet, (id_column, name_column) in columns.items():
            if sheet not in reader.sheet_names:
                continue
            frame = reader.load_sheet(sheet, dtypes="string").to_polars()
            if id_column in frame.columns:
                ids |= {v for v in frame[id_column].drop_nulls() if len(v) >= 15}
            if name_column in frame.columns:
                names |= {v for v in frame[name_column].drop_nulls() if len(v) >= 2}
        if "封面" in reader.sheet_names:
            cover = reader.load_sheet("封面", header_row=None, dtypes="string").to_polars()
            names |= {v for k, v in cover.rows() if k == "填报人" and v}
    return ids, names


def leaks_in_duckdb(db: Path, ids: set[str], names: set[str]) -> list[str]:
    leaks = []
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("CREATE TEMP TABLE needle AS SELECT unnest(?) AS v", [sorted(ids | names)])
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('information_schema', 'pg_catalog') "
            "AND table_catalog = current_database()"
        ).fetchall()
        for schema, table, column in columns:
            col, source = f'"{column}"', f'"{schema}"."{table}"'
            hits = con.execute(
                f"SELECT count(*) FROM {source} WHERE {col} IN (SELECT v FROM needle) OR "
                f"list_has_any(regexp_extract_all({col}, '[0-9]{{17}}[0-9Xx]|[0-9]{{15}}'), "
                "(SELECT list(v) FROM needle))"
            ).fetchone()[0]
            if hits:
                leaks.append(f"{db.name}:{schema}.{table}.{column} ({hits})")
    return leaks


def leaks_in_parquet(path: Path, ids: set[str], names: set[str]) -> list[str]:
    with duckdb.connect() as con:
        con.execute("CREATE TEMP TABLE needle AS SELECT unnest(?) AS v", [sorted(ids | names)])
        types = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        leaks = []
        for column, dtype, *_ in types:
            if dtype != "VARCHAR":
                continue
            hits = con.execute(
                f'SELECT count(*) FROM read_parquet(?) WHERE "{column}" IN (SELECT v FROM needle)',
                [str(path)],
            ).fetchone()[0]
            if hits:
                leaks.append(f"{path.name}.{column}")
    return leaks


def needles_of(values: set[str]) -> list[bytes]:
    """Each value as UTF-8 and as JSON writes it with ensure_ascii (Dagster's event log does)."""
    return sorted({v.encode() for v in values} | {json.dumps(v)[1:-1].encode() for v in values})
