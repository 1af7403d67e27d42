"""The Dagster code location loads, with the graph flowing ingest → dbt → publish."""

from __future__ import annotations

import dagster as dg

from orchestration.project import prepare_dbt


def test_definitions_load_and_read_as_the_data_flows(tmp_path, monkeypatch):
    monkeypatch.setenv("QIANGJI_HOME", str(tmp_path))
    monkeypatch.setenv("QIANGJI_LANDING", str(tmp_path / "landing"))
    prepare_dbt()
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    graph = repo.asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "raw/members",
        "stg_members",
        "fct_admission",
        "mart_target_attainment",
        "published/mart_target_attainment",
    } <= keys
    # raw tables feed staging; the mart feeds publish
    assert dg.AssetKey(["raw", "members"]) in graph.get(dg.AssetKey(["stg_members"])).parent_keys
    published = dg.AssetKey(["published", "mart_target_attainment"])
    assert dg.AssetKey(["mart_target_attainment"]) in graph.get(published).parent_keys
    assert defs.resolve_job_def("qiangji_pipeline") is not None
    checks = {c.name for c in repo.asset_checks_defs_by_key}  # dbt tests and the GX suite as checks
    assert {"mart_target_attainment_suite_integrity", "fct_member_snapshot_suite_warnings"} <= checks
