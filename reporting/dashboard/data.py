"""The dashboard's data: the published marts read once into one dict of plain rows.

`load_data(published_db)` opens `published/marts.duckdb` read-only (through `reporting.report`) and
returns the periods, the period shown first, the attainment rows, the targets and reporting units, and
the named datasets the page stores once for every chart to share (attainment, targets, units,
submissions, on_track), with the value and target texts the tooltips and cells show.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from reporting.report import CITY, attainment_rows, connect, latest_period, periods
from warehouse.privacy import mask_ids_in_data


def _short_value(value: float | None, kind: str | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if kind == "count" else f"{value:.0%}"


def _value_text(row: dict) -> str:
    value, kind = row["value"], row["target_kind"]
    if value is None:
        return "—"
    if kind == "count":
        return f"{value:,.0f}"
    if row["numerator"] is not None and row["denominator"]:
        return f"{value:.1%} ({row['numerator']:,}/{row['denominator']:,})"
    return f"{value:.1%}"


def _target_text(target_value: float | None, kind: str, deadline: str | None, cadence: str) -> str:
    if kind == "rising":
        goal = "逐年提高 rising every year"
    elif kind == "count":
        goal = f"≥ {target_value:,.0f}"
    else:
        goal = f"≥ {target_value:.1%}" if target_value < 1 else "100%"
    if deadline:
        return f"{goal}, 期限 by {deadline}"
    return f"{goal}, 每年 every year" if cadence == "year" else f"{goal}, 每期 every period"


def _on_track_lines(rows: list[dict], period_list: list[str], targets: dict[str, dict]) -> list[dict]:
    """The city's on-track line of each target with a deadline: from its first value to the target."""
    index = {p: i for i, p in enumerate(period_list)}
    lines = []
    for target_id, t in targets.items():
        deadline = t["deadline_period"]
        if not deadline or t["target_kind"] == "rising" or deadline not in index:
            continue
        city = [r for r in rows if r["target_id"] == target_id and r["district_code"] == CITY]
        first = next((r for r in city if r["value"] is not None), None)
        if first is None or index[first["period"]] >= index[deadline]:
            continue
        v0, goal = first["value"], t["target_value"]
        if v0 >= goal:
            continue
        lines += [
            {"target_id": target_id, "period": first["period"], "line": v0},
            {"target_id": target_id, "period": deadline, "line": goal},
        ]
    return lines


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def load_data(published_db: Path) -> dict:
    """Everything the page shows, as plain rows, read once from the published marts."""
    with connect(published_db) as con:
        period_list = periods(con)
        latest = latest_period(con) or period_list[-1]
        rows = attainment_rows(con)
        target_rows = _dicts(
            con.execute(
                "SELECT target_id, name_zh, name_en, quote_zh, target_kind, target_value, deadline_period,"
                " cadence, is_city_only FROM dim_target ORDER BY sort_order"
            )
        )
        unit_rows = _dicts(
            con.execute(
                "SELECT district_code, district_name, kind, reports_from, reports_to, successor_code"
                f" FROM dim_district ORDER BY district_code <> '{CITY}', district_code"
            )
        )
        submission_rows = _dicts(
            con.execute(
                f"""
                SELECT district_code, period, submission_status, files_received, files_rejected,
                       files_superseded, current_version, CAST(submitted_date AS VARCHAR) AS submitted_date,
                       is_late, quarantined_rows, last_rejection_reason
                FROM mart_submission_status WHERE district_code <> '{CITY}'
                """
            )
        )

    targets = {}
    for order, t in enumerate(target_rows):  # the document's order (dim_target.sort_order)
        value = None if t["target_value"] is None else float(t["target_value"])
        targets[t["target_id"]] = {
            **t,
            "target_value": value,
            "order": order,
            "target_label": t["name_zh"],
            "target_text": _target_text(value, t["target_kind"], t["deadline_period"], t["cadence"]),
        }
    units = {
        u["district_code"]: {
            **u,
            "unit_label": f"{u['district_name']}（全市）"
            if u["district_code"] == CITY
            else u["district_name"],
        }
        for u in unit_rows
    }
    attainment = [
        {
            "target_id": r["target_id"],
            "district_code": r["district_code"],
            "period": r["period"],
            "status": r["status"],
            "value": None if r["value"] is None else round(r["value"], 5),
            "vt": _value_text(r),
            "vs": _short_value(r["value"], r["target_kind"]),
        }
        for r in rows
    ]
    return {
        "periods": period_list,
        "latest": latest,
        "rows": rows,
        "targets": targets,
        "units": units,
        "datasets": {
            "attainment": attainment,
            "targets": list(targets.values()),
            "units": list(units.values()),
            # a rejection's reason is the ingest's text: IDs masked (warehouse.privacy), as the
            # warehouse's own masking already does (defence in depth)
            "submissions": mask_ids_in_data(submission_rows),
            "on_track": _on_track_lines(rows, period_list, targets),
        },
    }
