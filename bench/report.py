"""`python -m bench.report [results.json ...]`: the benchmark's results as Markdown tables."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from bench.run import RESULTS_DIR

STAGES = ("check", "ingest", "dbt", "gx", "publish")


def _median(values: list[float]) -> float:
    return statistics.median(values)


def stage_table(result: dict) -> str:
    """Per stage: median wall and CPU seconds over the runs, the highest peak RSS, the load meanwhile."""
    detail = result["detail"]
    rows = [
        "| what | wall s (median) | CPU s (median) | peak RSS MB (max) | load 1 min (median) |",
        "|---|---:|---:|---:|---:|",
    ]

    def row(name: str, stages: list[dict]) -> None:
        wall, cpu = _median([s["wall_s"] for s in stages]), _median([s["cpu_s"] for s in stages])
        peak, load = max(s["peak_rss_mb"] for s in stages), _median([s["load_1m"] for s in stages])
        rows.append(f"| {name} | {wall:.1f} | {cpu:.1f} | {peak:.0f} | {load:.1f} |")

    row("(a) floor, xlsx (fastexcel → DuckDB)", [f["xlsx"] for f in detail["floors"]])
    row("(a) floor, zip of CSVs (DuckDB read_csv)", [f["zip"] for f in detail["floors"]])
    for container in ("xlsx", "zip"):
        if detail["pandas"]:
            row(
                f"(b) pandas way, {container} (×{len(detail['pandas'])})",
                [p[container] for p in detail["pandas"]],
            )
    for stage in STAGES:
        row(f"(c) {stage}", [r["stages"][stage] for r in detail["runs"] if stage in r["stages"]])
    row("(c) ingest, zip of CSVs", [r["zip_ingest"] for r in detail["runs"]])
    for stage in ("ingest", "dbt", "gx", "publish"):
        stages = [r["resubmission"][stage] for r in detail["runs"] if stage in r["resubmission"]]
        if stages:
            row(f"one district's _v2: {stage}", stages)
    if detail.get("qiangji_run"):
        row("`qiangji run` end to end (Dagster, once)", [detail["qiangji_run"]])
    if detail.get("qiangji_run_resubmission"):
        row("`qiangji run` again after one district's _v2 (once)", [detail["qiangji_run_resubmission"]])
    return "\n".join(rows)


def headline_table(results: list[dict]) -> str:
    keys = (
        "end_to_end_s",
        "end_to_end_cpu_s",
        "peak_rss_mb",
        "ingest_over_floor",
        "ingest_over_floor_cpu",
        "speedup_vs_pandas",
        "speedup_vs_pandas_cpu",
        "resubmission_s",
        "resubmission_share",
        "resubmission_share_cpu",
        "qiangji_run_s",
        "qiangji_run_resubmission_s",
        "qiangji_run_resubmission_share",
    )
    head = "| metric | " + " | ".join(
        f"scale {r['scale']:g} ({sum(r['rows'].values()):,} rows)" for r in results
    )
    rows = [head + " |", "|---|" + "---:|" * len(results)]
    for key in keys:
        cells = [("–" if r.get(key) is None else f"{r[key]:g}") for r in results]
        rows.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def linearity_table(results: list[dict]) -> str:
    """CPU seconds per stage and per million rows at each scale: a linear pipeline keeps the latter flat."""
    rows = [
        "| scale | rows | ingest CPU s | dbt CPU s | GX CPU s | end to end CPU s | CPU s per M rows"
        " | end to end wall s | peak RSS MB | resubmission share |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: r["scale"]):
        n = sum(r["rows"].values())
        cpu = r["end_to_end_cpu_s"]
        rows.append(
            f"| {r['scale']:g} | {n:,} | {r['ingest_cpu_s']:.1f} | {r['dbt_cpu_s']:.1f} | {r['gx_cpu_s']:.1f}"
            f" | {cpu:.1f} | {cpu / n * 1e6:.1f} | {r['end_to_end_s']:.1f} | {r['peak_rss_mb']:.0f}"
            f" | {r['resubmission_share']:.2f} |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    paths = [Path(p) for p in argv] or [RESULTS_DIR / "latest.json"]
    results = [json.loads(p.read_text()) for p in paths]
    print(headline_table(results))
    if len(results) > 1:
        print("\n" + linearity_table(results))
    for path, result in zip(paths, results, strict=True):
        print(f"\n{path.name}: scale {result['scale']:g}, {result['runs']} runs\n")
        print(stage_table(result))


if __name__ == "__main__":
    main(sys.argv[1:])
