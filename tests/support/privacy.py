"""What a privacy scan looks for (every national ID and name of the input) and where it looks."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable
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


def _planted_regex(planted: Iterable[str]) -> str | None:
    tokens = sorted(set(planted), key=len, reverse=True)
    return "|".join(re.escape(t) for t in tokens) if tokens else None


def _planted_hits(con: duckdb.DuckDBPyConnection, source: str, value: str, pattern: str) -> list[str]:
    """The planted tokens found in `value` (an SQL expression) of `source`."""
    found = con.execute(
        f"SELECT DISTINCT unnest(regexp_extract_all({value}, ?)) FROM {source}"
        f" WHERE regexp_matches({value}, ?)",
        [pattern, pattern],
    ).fetchall()
    return sorted(t for (t,) in found)


def leaks_in_duckdb(db: Path, ids: set[str], names: set[str], planted: Iterable[str] = ()) -> list[str]:
    """Every text column of every table of `db` holding a value equal to an ID or a name, or an 18-
    or 15-digit substring that is an ID; with `planted`, also every column of any type whose text
    holds one of those tokens anywhere (IDs and names typed where they do not belong), named."""
    leaks = []
    pattern = _planted_regex(planted)
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("CREATE TEMP TABLE needle AS SELECT unnest(?::VARCHAR[]) AS v", [sorted(ids | names)])
        columns = con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') "
            "AND table_catalog = current_database()"
        ).fetchall()
        for schema, table, column, dtype in columns:
            col, source = f'"{column}"', f'"{schema}"."{table}"'
            if dtype == "VARCHAR" and ids | names:
                hits = con.execute(
                    f"SELECT count(*) FROM {source} WHERE {col} IN (SELECT v FROM needle) OR "
                    f"list_has_any(regexp_extract_all({col}, '[0-9]{{17}}[0-9Xx]|[0-9]{{15}}'), "
                    "(SELECT list(v) FROM needle))"
                ).fetchone()[0]
                if hits:
                    leaks.append(f"{db.name}:{schema}.{table}.{column} ({hits})")
            if pattern:
                tokens = _planted_hits(con, source, f"CAST({col} AS VARCHAR)", pattern)
                if tokens:
                    leaks.append(f"{db.name}:{schema}.{table}.{column} planted {tokens}")
    return leaks


def leaks_in_parquet(path: Path, ids: set[str], names: set[str], planted: Iterable[str] = ()) -> list[str]:
    """As `leaks_in_duckdb`, for one Parquet file (a text value equal to an ID or a name)."""
    pattern = _planted_regex(planted)
    with duckdb.connect() as con:
        con.execute("CREATE TEMP TABLE needle AS SELECT unnest(?::VARCHAR[]) AS v", [sorted(ids | names)])
        types = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
        source = "read_parquet('{}')".format(str(path).replace("'", "''"))
        leaks = []
        for column, dtype, *_ in types:
            if dtype == "VARCHAR" and ids | names:
                hits = con.execute(
                    f'SELECT count(*) FROM {source} WHERE "{column}" IN (SELECT v FROM needle)'
                ).fetchone()[0]
                if hits:
                    leaks.append(f"{path.name}.{column}")
            if pattern:
                tokens = _planted_hits(con, source, f'CAST("{column}" AS VARCHAR)', pattern)
                if tokens:
                    leaks.append(f"{path.name}.{column} planted {tokens}")
    return leaks


def needles_of(values: set[str]) -> list[bytes]:
    """Each value as UTF-8, as JSON writes it with ensure_ascii (Dagster's event log, GX's results
    do) and percent-encoded (a path in a URL)."""
    return sorted(
        {v.encode() for v in values}
        | {json.dumps(v)[1:-1].encode() for v in values}
        | {urllib.parse.quote(v).encode() for v in values}
    )


def leaks_in_bytes(data: bytes, values: Iterable[str]) -> list[str]:
    """Which of `values` `data` holds, in any of `needles_of`'s forms."""
    return [v for v in sorted(set(values)) if any(n in data for n in needles_of({v}))]


def scan_home(
    home: Path, ids: set[str], names: set[str], planted: Iterable[str] = ()
) -> tuple[list[str], dict[str, int]]:
    """Everything a run wrote in `home` except archive/ (the raw archive keeps the files as received,
    by design): every DuckDB file's columns, every Parquet file's, and the bytes of every other file
    (CSVs, logs, Dagster's run and event storage and compute logs, GX results, Data Docs, the
    dashboard). Returns the leaks (with the planted tokens found, named) and how many files of each
    kind were scanned."""
    planted = set(planted)
    leaks: list[str] = []
    scanned = {"duckdb": 0, "parquet": 0, "other": 0}
    needles = needles_of(ids | names)
    for path in sorted(home.rglob("*")):
        if not path.is_file() or "archive" in path.relative_to(home).parts[:1]:
            continue
        where = str(path.relative_to(home))
        if path.suffix == ".duckdb":
            leaks += leaks_in_duckdb(path, ids, names, planted)
            scanned["duckdb"] += 1
        elif path.suffix == ".parquet":
            leaks += [f"{where}: {leak}" for leak in leaks_in_parquet(path, ids, names, planted)]
            scanned["parquet"] += 1
        else:
            data = path.read_bytes()
            if any(n in data for n in needles):
                leaks.append(where)
            if tokens := leaks_in_bytes(data, planted):
                leaks.append(f"{where} planted {tokens}")
            scanned["other"] += 1
    return leaks, scanned
