"""Data Docs for auditors: static HTML, readable offline (inline CSS, no script, no CDN).

GX's own Data Docs load their styles and scripts from CDNs, which this deployment cannot reach,
so the pages are rendered here from the same results: the latest GX outcomes with sample failing
rows (each traced to its file and Excel row), the dbt and pandera checks of the run from
`audit_check_results`, the quarantined rows with their problems, and each check's history.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import duckdb

from warehouse.audit import AUDIT_TABLE
from warehouse.privacy import display_file_name, mask_ids_in_text

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}
.warn{color:#9a6700;font-weight:600}.muted{color:#777}code{font-size:.8rem}
"""


def _e(value: Any) -> str:
    """A value as page text: every ID-shaped token masked, then escaped. Every value the page shows
    passes here (warehouse.privacy): the warehouse's masking, defence in depth."""
    return "" if value is None else html.escape(mask_ids_in_text(str(value)))


def _file(name: str | None) -> str | None:
    """A file's name as `display_file_name` shows one that did not match the pattern (CJK ideographs
    replaced: a person's name may be in it); a name that matched is ASCII and shown as it is."""
    return None if name is None else display_file_name(name, parsed=False)


def _table(headers: list[str], rows: list[list[Any]], raw: set[int] | None = None) -> str:
    raw = raw or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if i in raw else _e(c)}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status(passed: bool, severity: str) -> str:
    if passed:
        return '<span class="pass">passed 通过</span>'
    if severity == "warning":
        return '<span class="warn">warning 警告</span>'
    return '<span class="fail">FAILED 未通过</span>'


def render_data_docs(warehouse: Path, out_dir: Path, run_id: str, suite_outcomes: list[Any]) -> Path:
    """Write out_dir/index.html for the run `run_id`; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        files = {
            submission_id: _file(name)
            for submission_id, name in con.execute(
                "SELECT submission_id, file_name FROM raw.submissions"
            ).fetchall()
        }
        audit = con.execute(
            f"SELECT layer, check_name, asset, district_code, period, submission_id, passed, failing_count,"
            f" severity, details FROM {AUDIT_TABLE} WHERE run_id = ? ORDER BY layer, passed, check_name",
            [run_id],
        ).fetchall()
        history = con.execute(
            f"SELECT layer, check_name, count(DISTINCT run_id) AS runs,"
            f" sum(CASE WHEN passed THEN 0 ELSE 1 END) AS failures, max(checked_at) AS last_checked,"
            f" max(CASE WHEN NOT passed THEN checked_at END) AS last_failed"
            f" FROM {AUDIT_TABLE} WHERE layer <> 'pandera' GROUP BY layer, check_name"
            f" ORDER BY failures DESC, 1, 2"
        ).fetchall()
        problems = con.execute(
            "SELECT p.file_name, p.sheet, p.excel_row, p.column_header, p.value, p.rule, p.severity,"
            " p.message_zh, p.message_en FROM raw.problems p JOIN raw.submissions s"
            " ON p.submission_id = s.submission_id"
            " ORDER BY s.received_at DESC, p.file_name, p.sheet, p.excel_row"
            " LIMIT 500"
        ).fetchall()
    parts = [
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>qiangji Data Docs</title>"
        f"<style>{_CSS}</style></head><body>",
        "<h1>数据质量报告 / Data quality — qiangji</h1>",
        f"<p class='muted'>run <code>{_e(run_id)}</code></p>",
    ]
    by_layer: dict[str, list[int]] = {}
    for layer, *_, passed, _count, _sev, _d in audit:
        by_layer.setdefault(layer, [0, 0])[0 if passed else 1] += 1
    parts.append(
        _table(
            ["layer 层", "passed 通过", "failed 未通过"],
            [[k, v[0], v[1]] for k, v in sorted(by_layer.items())],
        )
    )

    parts.append("<h2>Great Expectations</h2>")
    for suite in suite_outcomes:
        rows = []
        for o in suite.outcomes:
            sample = ""
            if o.sample:
                traced = [
                    {**row, "file": files.get(row.get("submission_id"), "")}
                    if "submission_id" in row
                    else row
                    for row in o.sample[:5]
                ]
                sample = "<br>".join(_e(", ".join(f"{k}={v}" for k, v in row.items())) for row in traced)
            rows.append(
                [
                    _status(o.success, o.severity),
                    o.severity,
                    o.name,
                    o.unexpected_count,
                    o.error or "",
                    sample,
                ]
            )
        parts.append(f"<h3>{_e(suite.suite)} <span class='muted'>({_e(suite.table)})</span></h3>")
        parts.append(
            _table(["result", "severity", "expectation", "unexpected", "error", "sample rows"], rows, {0, 5})
        )

    failing = [r for r in audit if not r[6] and r[0] in ("dbt", "pandera")]
    parts.append("<h2>dbt tests and pandera rules that failed in this run</h2>")
    parts.append(
        _table(
            ["layer", "check", "district", "period", "file", "failing", "severity", "details"],
            [[r[0], r[1], r[3], r[4], files.get(r[5], ""), r[7], r[8], r[9]] for r in failing],
        )
        if failing
        else "<p class='pass'>none 无</p>"
    )
    parts.append("<h2>Quarantined rows and rejected files (latest 500 problems)</h2>")
    parts.append(
        _table(
            [
                "file 文件",
                "sheet 工作表",
                "row 行",
                "column 列",
                "value 值",
                "rule 规则",
                "severity",
                "说明",
                "message",
            ],
            [[_file(p[0]), *p[1:]] for p in problems],
        )
    )
    parts.append("<h2>History of each check 历史</h2>")
    parts.append(
        _table(
            ["layer", "check", "runs", "failures", "last checked", "last failed"], [list(h) for h in history]
        )
    )
    parts.append("</body></html>")
    index = out_dir / "index.html"
    partial = index.with_suffix(".html.partial")
    partial.write_text("\n".join(parts), encoding="utf-8")
    partial.replace(index)
    return index
