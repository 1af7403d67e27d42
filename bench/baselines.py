"""The two reference points the pipeline is measured against.

- `native_load`, the floor: the files into DuckDB tables with native readers (fastexcel for
  workbooks, DuckDB's `read_csv` for the CSVs in zips), every cell as text, no validation.
- `pandas_load`, the way a team would usually write it: `pandas.read_excel`/`read_csv` →
  type conversion → a pandera (pandas) schema with the spec's types, required columns, code
  lists and ID format → HMAC of the IDs → DuckDB.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from ingest.spec import DATA_SHEETS, SHEETS, Sheet

_BY_NAME = {s.name: s for s in SHEETS} | {s.alias: s for s in SHEETS}
_KEY = b"qiangji-bench-key-not-a-secret-0123456789abcdef"


def _insert(con: duckdb.DuckDBPyConnection, table: str, relation: object) -> None:
    con.register("_incoming", relation)
    try:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()[0]
        if exists:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
        else:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def _read_workbook_arrow(path: Path) -> list[tuple[str, object]]:
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    out = []
    for name in reader.sheet_names:
        sheet = _BY_NAME.get(name)
        if sheet is None or sheet.kind == "cover":
            continue
        out.append((sheet.table, reader.load_sheet(name, dtypes="string").to_arrow()))
    return out


def _load_zip_native(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp, zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            sheet = _BY_NAME.get(Path(info.filename).stem)
            if sheet is None or sheet.kind == "cover":
                continue
            target = Path(tmp) / Path(info.filename).name
            target.write_bytes(archive.read(info))
            source = f"read_csv('{target}', all_varchar = true, header = true)"
            con.execute(f"CREATE TABLE IF NOT EXISTS {sheet.table} AS SELECT * FROM {source} LIMIT 0")
            con.execute(f"INSERT INTO {sheet.table} BY NAME SELECT * FROM {source}")


def native_load(files: list[Path], database: Path, workers: int = 2) -> dict:
    """Every file's data sheets appended to one DuckDB table per sheet; workbooks read `workers` at a time."""
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        workbooks = [f for f in files if f.suffix.lower() == ".xlsx"]
        with ThreadPoolExecutor(max(workers, 1)) as pool:
            for tables in pool.map(_read_workbook_arrow, workbooks):
                for table, arrow in tables:
                    _insert(con, table, arrow)
        for path in files:
            if path.suffix.lower() == ".zip":
                _load_zip_native(con, path)
        rows = {s.table: con.execute(f"SELECT count(*) FROM {s.table}").fetchone()[0] for s in DATA_SHEETS}
    return {"rows": sum(rows.values())}


# --- the pandas way ---------------------------------------------------------------------------------


def _pandera_schema(sheet: Sheet) -> object:
    import pandera.pandas as pa

    from warehouse.reference import code_values

    columns = {}
    for c in sheet.columns:
        if not c.stored:
            continue
        checks = []
        if c.dtype == "code" and c.code_list:
            checks.append(pa.Check.isin(list(code_values(c.code_list))))
        if c.dtype == "national_id":
            checks.append(pa.Check.str_matches(r"^\d{17}[\dX]$"))
        if c.dtype in ("int", "number"):
            checks.append(pa.Check.ge(0))
        dtype = {
            "int": "Int64",
            "number": "float64",
            "bool": "boolean",
            "date": "datetime64[ns]",
        }.get(c.dtype, "string")
        columns[c.name] = pa.Column(dtype, checks=checks, nullable=not c.required, required=False)
    return pa.DataFrameSchema(columns, coerce=False)


def _typed(frame: object, sheet: Sheet) -> object:
    import pandas as pd

    headers = {c.header: c for c in sheet.columns}
    frame = frame.rename(columns=lambda h: str(h).strip().rstrip("*"))
    out = pd.DataFrame(index=frame.index)
    for header, c in headers.items():
        if not c.stored or header not in frame.columns:
            continue
        text = frame[header].astype("string").str.strip()
        if c.dtype == "date":
            out[c.name] = pd.to_datetime(text, errors="coerce", format="mixed")
        elif c.dtype == "int":
            out[c.name] = pd.to_numeric(text, errors="coerce").astype("Int64")
        elif c.dtype == "number":
            out[c.name] = pd.to_numeric(text, errors="coerce").astype("float64")
        elif c.dtype == "bool":
            out[c.name] = text.map({"是": True, "否": False}).astype("boolean")
        else:
            out[c.name] = text
    return out


def _pseudonymize(frame: object) -> object:
    """HMAC-SHA256 of each national ID, row by row (what `apply` makes easy)."""
    if "national_id" in frame.columns:
        frame["person_key"] = frame["national_id"].map(
            lambda v: None if v is None or v != v else hmac.new(_KEY, v.encode(), hashlib.sha256).hexdigest()
        )
        frame = frame.drop(columns=["national_id"])
    return frame


def _read_pandas(path: Path) -> dict[str, object]:
    import pandas as pd

    if path.suffix.lower() == ".xlsx":
        frames = pd.read_excel(path, sheet_name=None, dtype=str)
        return {name: f for name, f in frames.items() if name in _BY_NAME}
    out = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            stem = Path(info.filename).stem
            if stem in _BY_NAME and _BY_NAME[stem].kind != "cover":
                with archive.open(info) as f:
                    out[stem] = pd.read_csv(f, dtype=str, encoding="utf-8-sig")
    return out


def pandas_load(files: list[Path], database: Path) -> dict:
    """Each file read with pandas, typed, validated by pandera (lazily, all failures), loaded to DuckDB."""
    import pandera.pandas as pa

    schemas = {s.alias: _pandera_schema(s) for s in DATA_SHEETS}
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    rows = failures = 0
    with duckdb.connect(str(database)) as con:
        for path in files:
            for name, raw in _read_pandas(path).items():
                sheet = _BY_NAME[name]
                if sheet.kind == "cover":
                    continue
                typed = _typed(raw, sheet)
                try:
                    schemas[sheet.alias].validate(typed, lazy=True)
                except pa.errors.SchemaErrors as exc:
                    failures += len(exc.failure_cases)
                stored = _pseudonymize(typed)
                stored.insert(0, "submission_id", path.stem)
                _insert(con, sheet.table, stored)
                rows += len(stored)
    return {"rows": rows, "failure_cases": failures}
