"""The attainment dashboard: one static, offline HTML page built from the published marts.

`build_dashboard(published_db, out)` reads `published/marts.duckdb` read-only and writes one HTML
file (temp file + rename) with:

- a headline and a ranking of reporting units by missed and at-risk targets (who is furthest behind,
  and on what), next to a heat map of reporting unit × target colored by status, for the period
  chosen in a selector (a Vega-Lite param; the latest period with data by default);
- the submission status of every unit and period (mart_submission_status);
- one trend chart per target: the city line (points colored by status), every unit as a faint line,
  the target line, the deadline and, for targets with a deadline, the city's on-track line;
- a section per reporting unit (anchor `#d-<code>`): target × period colored by status.

Charts are Altair (Vega-Lite) specs embedded with vega-embed; Vega, Vega-Lite and vega-embed are
inlined from vl-convert-python's bundle, so the page needs no network. The data are stored once in
the page as named datasets that every spec shares. Dagster-free.

The package: `data` reads the marts into one dict of plain rows, `charts` turns it into Vega-Lite
specs, `page` writes the HTML around them; `build_dashboard` here ties the three together.
"""

from __future__ import annotations

import os
from pathlib import Path

from reporting.dashboard.charts import (
    UNIT_CODE,
    _fill,
    _spec,
    overview_chart,
    submissions_chart,
    trends_spec,
    unit_chart,
)
from reporting.dashboard.data import load_data
from reporting.dashboard.page import render_page
from reporting.report import CITY, ReportError

__all__ = ["build_dashboard"]


def build_dashboard(published_db: Path, out: Path, *, period: str | None = None) -> Path:
    """Write the dashboard of `published_db` to `out` (atomically: temp file + rename); returns `out`.

    `period` is the one shown first (and in the headline and unit summaries); default the latest with data.
    """
    published_db, out = Path(published_db), Path(out)
    data = load_data(published_db)
    period = period or data["latest"]
    if period not in data["periods"]:
        raise ReportError(f"unknown period {period!r}: one of {data['periods'][0]}..{data['periods'][-1]}")
    data["latest"] = period
    specs = {
        "chart-overview": _spec(overview_chart(data)),
        "chart-submissions": _spec(submissions_chart(data)),
        "chart-trends": trends_spec(data),
        f"chart-d-{CITY}": _spec(unit_chart(CITY, data)),
    }
    unit_template = _spec(unit_chart(UNIT_CODE, data))
    for code in data["units"]:
        if code != CITY:
            specs[f"chart-d-{code}"] = _fill(unit_template, {UNIT_CODE: code})
    page = render_page(data, specs, period, published_db)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out
