"""The benchmark harness at a tiny scale: it runs every measured path and writes latest.json's shape.

Budgets are not checked here (they live in the benchmark, `make bench`); this only proves the
harness measures what it says: the same rows through the floor, the pandas way and the pipeline,
from both containers, and one district's _v2 superseding its first version.
"""

import json
from pathlib import Path

import pytest

from bench.run import bench

HEADLINE = ("end_to_end_s", "peak_rss_mb", "ingest_over_floor", "speedup_vs_pandas", "resubmission_share")
USER_PATH = (
    "qiangji_run_small_s",
    "qiangji_run_demo_s",
    "qiangji_run_over_floor",
    "qiangji_run_resubmission_share",
)


@pytest.mark.slow  # about ten subprocesses, 30 CPU-seconds
def test_bench_at_a_tiny_scale_writes_the_headline_metrics(tmp_path: Path) -> None:
    out = tmp_path / "results" / "latest.json"
    bench(0.002, 1, out, tmp_path / "work", cache_dir=tmp_path / "cache", build=False, qiangji_run=False)

    result = json.loads(out.read_text())
    assert set(HEADLINE) <= result.keys() and set(USER_PATH) <= result.keys()
    assert set(result["within_budget"]) == set(result["budgets"]) >= set(HEADLINE + USER_PATH)
    assert all(result[k] is None and result["within_budget"][k] is None for k in USER_PATH)  # no run
    assert result["end_to_end_s"] is None and result["resubmission_share"] is None  # --no-build
    assert result["peak_rss_mb"] > 0 and result["ingest_over_floor"] > 0 and result["speedup_vs_pandas"] > 0
    assert result["machine"]["cores"] and len(result["loadavg_start"]) == 3
    assert len(result["speed_probe_s"]) == 2 and all(s > 0 for s in result["speed_probe_s"])

    total = sum(result["rows"].values())
    [floors], [run], [pandas] = (
        result["detail"]["floors"],
        result["detail"]["runs"],
        result["detail"]["pandas"],
    )
    assert floors["xlsx"]["detail"]["rows"] == floors["zip"]["detail"]["rows"] == total
    assert pandas["xlsx"]["detail"]["rows"] == pandas["zip"]["detail"]["rows"] == total
    ingest, zip_ingest = run["stages"]["ingest"]["detail"], run["zip_ingest"]["detail"]
    assert ingest["rows"] == zip_ingest["rows"] == total
    assert ingest["statuses"] == zip_ingest["statuses"] == {"accepted": result["detail"]["files"]}
    assert run["resubmission"]["ingest"]["detail"]["statuses"] == {"accepted": 1}
    assert not (tmp_path / "results" / "latest.partial.json").exists()


def test_verdicts_hold_at_most_a_budget_and_at_least_the_speedup() -> None:
    from bench.run import BUDGETS, within_budget

    at_budget = {k: v for k, v in BUDGETS.items()}
    assert all(within_budget(at_budget).values())
    over = {k: (v / 2 if k == "speedup_vs_pandas" else v * 1.01) for k, v in BUDGETS.items()}
    assert not any(within_budget(over).values())
    assert within_budget({}) == dict.fromkeys(BUDGETS)
