"""Dagster orchestration with the real stack: partitions, sensor, checks, the pool, the UI.

Runs use real DuckDB files, real dbt and a real Dagster instance (sqlite) in temporary folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.archive import sha256_of
from ingest.pipeline import landing_partitions
from orchestration.project import QUIET_TELEMETRY, prepare_dbt
from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import QIANGJI, ROOT, TEST_KEY, cli_env
from tests.support.pool import warehouse_steps
from tests.support.processes import free_port, stop_process_group

POOL_STEPS = {"submission", "raw_tables", "warehouse_models", "published_marts"}  # and the quality checks
# What the nightly rebuild builds and a refresh after new submissions does not.
SEEDS_AND_THEIR_DIMENSIONS = {"reporting_units", "periods", "targets", "code_values", "code_synonyms",
                              "gap_reasons", "dim_district", "dim_period", "dim_target"}  # fmt: skip


@pytest.fixture(scope="module")
def defs():
    prepare_dbt()
    from orchestration.definitions import defs

    return defs


@pytest.fixture
def data_home_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home with a landing folder and a Dagster home holding the repo's dagster.yaml, both set in
    the environment (QIANGJI_HOME, DAGSTER_HOME, ...)."""
    (tmp_path / "landing").mkdir()
    (tmp_path / "dagster").mkdir()
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster" / "dagster.yaml")
    for name, value in {
        **QUIET_TELEMETRY,
        "QIANGJI_HOME": str(tmp_path),
        "QIANGJI_DEMO": "0",
        "QIANGJI_LANDING": str(tmp_path / "landing"),
        "QIANGJI_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "QIANGJI_PSEUDONYM_KEY": TEST_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _events(instance: dg.DagsterInstance, run_id: str) -> list:
    return [e for e in instance.all_logs(run_id) if e.dagster_event is not None]


def _step_windows(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    starts, ends = {}, {}
    for e in _events(instance, run_id):
        kind = e.dagster_event.event_type_value
        if kind == "STEP_START":
            starts[e.step_key] = e.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[e.step_key] = e.timestamp
    return {k: (starts[k], ends[k]) for k in starts if k in ends}


# --- the code location ------------------------------------------------------------------------------


def test_every_step_is_in_the_warehouse_pool_and_the_graph_flows_by_group(defs):
    from orchestration.resources import WAREHOUSE_POOL

    repo = defs.get_repository_def()
    graph = repo.asset_graph
    published = [k for k in graph.get_all_asset_keys() if k.path[0] == "published"]
    # these read the published copy, if anything
    after_publishing = {child for key in published for child in graph.get(key).child_keys}
    pools, outside = {}, []
    for assets_def in {*repo.assets_defs_by_key.values(), *repo.asset_checks_defs_by_key.values()}:
        if assets_def.is_executable:
            pools[assets_def.node_def.name] = assets_def.node_def.pool
            if assets_def.node_def.pool != WAREHOUSE_POOL:
                outside.append(assets_def)
    assert POOL_STEPS <= set(pools)
    # every step that opens the DuckDB warehouse (ingest, audit, dbt, checks, publish) is in the pool
    assert all(set(a.keys) <= after_publishing and not a.check_keys for a in outside), pools
    group = {k: graph.get(k).group_name for k in graph.get_all_asset_keys()}
    order = ["ingest", "staging", "intermediate", "core", "metrics", "marts", "publish"]
    for key, parents in ((k, graph.get(k).parent_keys) for k in graph.get_all_asset_keys()):
        for parent in parents:
            if group[parent] in order and group[key] in order:
                assert order.index(group[parent]) <= order.index(group[key]), (parent, key)
    submission = graph.get(dg.AssetKey("submission"))
    assert submission.partitions_def.name == "submission"
    assert submission.backfill_policy == dg.BackfillPolicy.single_run()
    assert dg.AssetKey(["raw", "members"]) in graph.get(dg.AssetKey("stg_members")).parent_keys
    assert repo.get_sensor_def("landing_sensor").job_name == "ingest_submissions"
    assert repo.get_schedule_def("nightly_rebuild").cron_schedule == "0 2 * * *"
    nightly = {
        k.to_user_string() for k in defs.resolve_job_def("nightly_rebuild").asset_layer.executable_asset_keys
    }
    assert (
        "submission" not in nightly
        and {"raw/members", "mart_target_attainment", "published/mart_target_attainment"} <= nightly
    )


# --- the landing sensor -----------------------------------------------------------------------------


def test_the_sensor_requests_a_run_per_new_or_changed_file_and_never_twice_for_the_same_bytes(
    data_home_env, defs
):
    from orchestration.defs.automation import LandingCursor, landing_sensor
    from orchestration.resources import QiangjiHome

    landing = data_home_env / "landing"
    resources = {"qiangji": QiangjiHome(home=str(data_home_env), landing=str(landing))}
    with dg.instance_for_test(temp_dir=str(data_home_env / "dagster")) as instance:

        def tick(cursor: str | None) -> dg.SensorResult:
            result = landing_sensor(
                dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
            )
            for request in result.dynamic_partitions_requests or []:  # as the daemon applies them
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            return result

        first = write_xlsx(landing / "120104_2007H1.xlsx", minimal_sheets("120104", "2007H1"))
        (landing / "120105_2007H1.xlsx.part").write_bytes(b"still being copied")
        result = tick(None)
        [request] = result.run_requests
        assert request.partition_key == "120104|2007H1"
        assert request.run_key.startswith(sha256_of(first) + ":")  # the bytes, the name, the attempts
        assert instance.get_dynamic_partitions("submission") == ["120104|2007H1"]

        again = tick(result.cursor)  # the same file: nothing
        assert not again.run_requests
        os.utime(first, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes: nothing
        touched = tick(again.cursor)
        assert not touched.run_requests

        sheets = minimal_sheets("120104", "2007H1")
        sheets["单位"][2]["活动场所"] = "是"
        write_xlsx(first, sheets)  # changed bytes, same name: one run for the same partition
        changed = tick(touched.cursor)
        [request] = changed.run_requests
        assert request.partition_key == "120104|2007H1"
        assert request.run_key.startswith(sha256_of(first) + ":")
        assert not changed.dynamic_partitions_requests

        (landing / "report.xlsx").write_bytes(b"not a submission name")  # still ingested (rejected)
        copy = landing / "120104_2007H1_v2.xlsx"
        shutil.copyfile(first, copy)  # the same bytes under another version: judged anew
        last = tick(changed.cursor)
        assert sorted(r.partition_key for r in last.run_requests) == ["120104|2007H1", "unmatched"]
        assert instance.get_dynamic_partitions("submission") == ["120104|2007H1", "unmatched"]
        assert set(LandingCursor.load(last.cursor).files) == {first.name, copy.name, "report.xlsx"}
        first.unlink()  # the cursor holds what is in the landing folder now, nothing more
        assert set(LandingCursor.load(tick(last.cursor).cursor).files) == {copy.name, "report.xlsx"}


def test_one_rebuild_after_new_submissions_once_none_is_still_loading(data_home_env, defs):
    from orchestration.defs.automation import refresh_after_ingest

    ingest = defs.resolve_job_def("ingest_submissions")
    with dg.instance_for_test(temp_dir=str(data_home_env / "dagster")) as instance:

        def tick(cursor: str | None) -> dg.SensorResult:
            context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
            return refresh_after_ingest(context)

        def load(district: str) -> None:
            write_xlsx(
                data_home_env / "landing" / f"{district}_2007H1.xlsx", minimal_sheets(district, "2007H1")
            )
            instance.add_dynamic_partitions("submission", [f"{district}|2007H1"])
            assert ingest.execute_in_process(instance=instance, partition_key=f"{district}|2007H1").success

        first = tick(None)
        assert not first.run_requests and "no submission" in first.skip_reason.skip_message
        load("120104")
        [request] = (after_first := tick(first.cursor)).run_requests
        assert request.job_name == "nightly_rebuild"  # a new home: the seeds were never built
        assert not tick(after_first.cursor).run_requests  # requested once, not every 30 s
        graph = defs.get_repository_def().asset_graph

        def build(name: str, code_version: str | None = None) -> None:  # as the nightly rebuild would
            key = dg.AssetKey(name)
            tags = {"dagster/code_version": code_version or graph.get(key).code_version}
            instance.report_runless_asset_event(dg.AssetMaterialization(key, tags=tags))

        for name in SEEDS_AND_THEIR_DIMENSIONS:
            build(name)

        load("120105")
        queued = instance.create_run_for_job(ingest, status=dg.DagsterRunStatus.NOT_STARTED)  # a third file
        waiting = tick(after_first.cursor)
        assert not waiting.run_requests and "still loading" in waiting.skip_reason.skip_message
        instance.report_run_canceled(queued)
        [second] = (after_second := tick(after_first.cursor)).run_requests  # one refresh for both files
        assert second.run_key != request.run_key
        assert second.job_name == "refresh_after_submissions"

        build("periods", code_version="the seed before a deployment changed it")
        load("120106")
        [third] = tick(after_second.cursor).run_requests
        assert third.job_name == "nightly_rebuild"  # the seed must be built from the new code first


def test_the_refresh_builds_what_reads_the_raw_tables_as_dbt_selects_it(defs, tmp_path: Path):
    """The refresh job's dbt models are `dbt ls --select source:raw+` (what the benchmark builds)."""
    from orchestration.project import REFRESH_SELECTOR, dbt_executable

    def names(job: str) -> set[str]:
        return {k.to_user_string() for k in defs.resolve_job_def(job).asset_layer.executable_asset_keys}

    project = str(ROOT / "dbt_project")
    listed = subprocess.run(
        [dbt_executable(), "ls", "--selector", REFRESH_SELECTOR, "--resource-type", "model",
         "--output", "name", "--quiet", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(tmp_path), "--log-path", str(tmp_path)],
        env={**os.environ, **QUIET_TELEMETRY}, capture_output=True, text=True, check=True, cwd=project,
    ).stdout.split()  # fmt: skip
    refresh, nightly = names("refresh_after_submissions"), names("nightly_rebuild")
    prefixes = ("stg", "int", "fct", "dim", "mart", "audit")
    models = {name for name in nightly if name.split("_", 1)[0] in prefixes}
    assert refresh & models == set(listed)
    assert nightly - refresh == SEEDS_AND_THEIR_DIMENSIONS
    assert {"raw/members", "published/mart_target_attainment", "attainment_dashboard"} <= refresh


# --- runs -------------------------------------------------------------------------------------------


def test_a_failed_blocking_check_on_the_raw_layer_stops_dbt_and_publishing(data_home_env, defs):
    from ingest.load import ensure_schema
    from orchestration.defs.ingest import all_partitions_tags, register_landing

    write_xlsx(data_home_env / "landing" / "120104_2007H1.xlsx", minimal_sheets("120104", "2007H1"))
    with duckdb.connect(str(data_home_env / "warehouse.duckdb")) as con:  # a member row no submission logged
        ensure_schema(con)
        con.execute("INSERT INTO raw.members (submission_id, source_row, person_key) VALUES ('x', 2, 'y')")
    with dg.DagsterInstance.get() as instance:
        keys = register_landing(instance, data_home_env / "landing")
        result = defs.resolve_job_def("qiangji_pipeline").execute_in_process(
            instance=instance, tags=all_partitions_tags(keys), raise_on_error=False
        )
        assert not result.success
        checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert checks["rows_pass_pandera"].passed and checks["no_submission_rejected"].passed
        integrity = checks["raw_integrity"]
        assert not integrity.passed and integrity.metadata["rows_match_the_log"].value == 1
        assert integrity.metadata["person_key_is_a_pseudonym"].value == 1
        materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
        assert "submission" in materialized and "raw/members" in materialized
        assert not materialized & {
            "stg_members",
            "mart_target_attainment",
            "published/mart_target_attainment",
        }
        assert instance.get_materialized_partitions(dg.AssetKey("submission")) == {"120104|2007H1"}
    assert not (data_home_env / "published" / "marts.duckdb").exists()


def test_publish_waits_for_the_blocking_checks_of_the_marts_it_copies(data_home_env, defs):
    """The pool serializes steps, not runs: another run may rebuild the marts between this run's
    checks and its publish step. Publish copies only marts whose blocking checks passed since."""
    from orchestration.defs.publish import PUBLISHED_KEYS
    from warehouse.publish import PUBLISHED_MODELS

    with duckdb.connect(str(data_home_env / "warehouse.duckdb")) as con:  # stand-ins for the dbt models
        for name in PUBLISHED_MODELS:
            con.execute(f"CREATE TABLE main.{name} AS SELECT 1 AS x")
    keys = [dg.AssetKey([name]) for name in PUBLISHED_MODELS]
    graph = defs.get_repository_def().asset_graph
    blocking = [k for k in graph.get_check_keys_for_assets(keys) if graph.get_check_spec(k).blocking]
    assert any(k.asset_key == dg.AssetKey("mart_target_attainment") for k in blocking)  # GX, dbt tests
    job = defs.resolve_job_def("nightly_rebuild")
    published = data_home_env / "published" / "marts.duckdb"

    def build(*models: dg.AssetKey) -> None:
        for key in models:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))

    def check(*check_keys: dg.AssetCheckKey, passed: bool = True) -> None:
        for key in check_keys:
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(asset_key=key.asset_key, check_name=key.name, passed=passed)
            )

    def publish() -> bool:
        result = job.execute_in_process(instance=instance, asset_selection=list(PUBLISHED_KEYS.values()))
        assert result.success
        return bool(result.get_asset_materialization_events())

    with dg.DagsterInstance.get() as instance:
        build(*keys)
        assert not publish() and not published.exists()  # built, never checked
        check(*blocking)
        assert publish() and published.exists()  # every blocking check passed after the build
        stamp = published.stat().st_mtime_ns
        build(dg.AssetKey("mart_target_attainment"))  # another run rebuilt the mart since
        assert not publish() and published.stat().st_mtime_ns == stamp
        check(*[k for k in blocking if k.asset_key.path == ["mart_target_attainment"]], passed=False)
        assert not publish()  # its checks then failed: still the last good publication
        check(*[k for k in blocking if k.asset_key.path == ["mart_target_attainment"]])
        assert publish() and published.stat().st_mtime_ns != stamp


def blocking_checks_of(*keys: dg.AssetKey) -> list[dg.AssetCheckKey]:
    prepare_dbt()
    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
    return [k for k in graph.get_check_keys_for_assets(keys) if graph.get_check_spec(k).blocking]


def test_qiangji_run_is_one_run_over_every_partition_with_checks(
    generated: Path, pipeline_home: Path, monkeypatch: pytest.MonkeyPatch
):
    """The end-to-end run of test_pipeline (`qiangji run` into temporary folders), seen by Dagster."""
    keys = list(landing_partitions(generated))
    with duckdb.connect(str(pipeline_home / "warehouse.duckdb"), read_only=True) as con:
        accepted, rejected, quarantined = con.execute(
            "SELECT count(*) FILTER (status <> 'rejected'), count(*) FILTER (status = 'rejected'),"
            " coalesce(sum(quarantined_rows), 0) FROM raw.submissions"
        ).fetchone()
        row_problems = con.execute("SELECT count(*) FROM raw.problems WHERE severity = 'row'").fetchone()[0]
    monkeypatch.setenv("DAGSTER_HOME", str(pipeline_home / "dagster"))  # the storage's base_dir
    instance = dg.DagsterInstance.get()
    try:
        [run] = instance.get_runs()
        assert run.job_name == "qiangji_pipeline"
        assert run.tags["dagster/asset_partition_range_start"] == keys[0]
        assert run.tags["dagster/asset_partition_range_end"] == keys[-1]
        assert instance.get_dynamic_partitions("submission") == keys
        assert instance.get_materialized_partitions(dg.AssetKey("submission")) == set(keys)
        for key in ("published/mart_target_attainment", "mart_target_attainment", "raw/members"):
            assert instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key)), key
        checks = [
            dg.AssetCheckKey(dg.AssetKey("submission"), "rows_pass_pandera"),
            dg.AssetCheckKey(dg.AssetKey("submission"), "no_submission_rejected"),
            *blocking_checks_of(dg.AssetKey(["raw", "submissions"]), dg.AssetKey("mart_target_attainment")),
        ]
        records = instance.event_log_storage.get_latest_asset_check_execution_by_key(checks)
        status = {k.name: records[k].status.value for k in checks}
        metadata = {k.name: records[k].event.dagster_event.event_specific_data.metadata for k in checks[:2]}
    finally:
        instance.dispose()
    # raw_integrity, the GX suites' blocking checks and the dbt tests of severity error on the mart
    assert "raw_integrity" in status and len(status) > 5
    assert {name: s for name, s in status.items() if name not in metadata and s != "SUCCEEDED"} == {}
    pandera = metadata["rows_pass_pandera"]
    assert pandera["files_validated"].value == accepted
    assert pandera["rows_checked"].value > 10_000
    assert pandera["quarantined_rows"].value == quarantined
    assert status["rows_pass_pandera"] == ("FAILED" if row_problems else "SUCCEEDED")  # a warning
    # a stray file in the landing folder (conftest's notes.csv; the demo's ground truth is kept out of
    # it) is rejected: a warning, not a failure of the run
    assert metadata["no_submission_rejected"]["rejected"].value == rejected >= 1
    assert status["no_submission_rejected"] == "FAILED"


CONCURRENT_RUN = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import dagster as dg

    from orchestration.definitions import defs
    from ingest.load import RAW_TABLES
    from orchestration.defs.ingest import SUBMISSION, all_partitions_tags

    me, other, first, last = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    job = defs.resolve_job_def("qiangji_pipeline")
    with dg.DagsterInstance.get() as instance:
        me.touch()  # a barrier: both runs start together
        deadline = time.monotonic() + 120
        while not other.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            asset_selection=[SUBMISSION, *(dg.AssetKey(["raw", t]) for t in RAW_TABLES)],
            tags=all_partitions_tags([first, last]),
        )
    print(json.dumps({"run_id": result.run_id, "success": result.success}))
    """
)


def test_two_runs_at_once_both_succeed_one_writer_at_a_time(data_home_env, defs, generated: Path):
    """Two processes ingest into one warehouse at the same moment: the pool serializes the writers."""
    from orchestration.defs.ingest import register_landing

    for path in sorted(generated.glob("*_2006H1.xlsx"))[:16]:
        shutil.copyfile(path, data_home_env / "landing" / path.name)
    with dg.DagsterInstance.get() as instance:
        keys = register_landing(instance, data_home_env / "landing")
    half = len(keys) // 2
    ranges = [(keys[0], keys[half - 1]), (keys[half], keys[-1])]
    flags = [data_home_env / "a.ready", data_home_env / "b.ready"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_RUN, str(flags[i]), str(flags[1 - i]), *ranges[i]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **QUIET_TELEMETRY},
        )
        for i in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert "Could not set lock" not in err and "Conflicting lock" not in err
    assert all(o["success"] for o in outputs), outputs

    with dg.DagsterInstance.get() as instance:
        windows = [_step_windows(instance, o["run_id"]) for o in outputs]
        blocked = [
            e.step_key
            for o in outputs
            for e in _events(instance, o["run_id"])
            if "blocked by limit for pool duckdb_warehouse" in (e.dagster_event.message or "")
        ]
        assert instance.get_materialized_partitions(dg.AssetKey("submission")) == set(keys)
    assert set(windows[0]) == set(windows[1]) == {"submission", "raw_tables"}
    for a_start, a_end in windows[0].values():  # no writer of one run overlaps a writer of the other
        for b_start, b_end in windows[1].values():
            assert a_end <= b_start or b_end <= a_start, windows
    assert blocked, "the runs never contended for the pool: the test proved nothing"
    with duckdb.connect(str(data_home_env / "warehouse.duckdb"), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM raw.submissions WHERE status = 'accepted'").fetchone()[0] == 16
        )


# --- the UI -----------------------------------------------------------------------------------------


def test_the_webserver_serves_the_asset_graph(data_home_env, defs):
    port = free_port()
    webserver = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env={**os.environ, **QUIET_TELEMETRY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the code server it starts is stopped with it
    )
    local = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, no proxy
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                with local.open(f"{url}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the webserver did not start in 90 s"
            time.sleep(0.5)
        query = """{
          assetNodes { assetKey { path } groupName isPartitioned }
          workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
            __typename ... on RepositoryLocation { repositories { sensors { name } schedules { name } } }
          } } } }
        }"""
        request = urllib.request.Request(
            f"{url}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with local.open(request, timeout=60) as response:
            data = json.loads(response.read())["data"]
    finally:
        stop_process_group(proc)
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert nodes["submission"]["isPartitioned"] and nodes["submission"]["groupName"] == "ingest"
    assert nodes["raw/members"]["groupName"] == "ingest"
    assert nodes["stg_members"]["groupName"] == "staging"
    assert nodes["mart_target_attainment"]["groupName"] == "marts"
    assert nodes["published/mart_target_attainment"]["groupName"] == "publish"
    [entry] = data["workspaceOrError"]["locationEntries"]
    [repo] = entry["locationOrLoadError"]["repositories"]
    assert sorted(s["name"] for s in repo["sensors"]) == ["landing_sensor", "refresh_after_ingest"]
    assert [s["name"] for s in repo["schedules"]] == ["nightly_rebuild"]


# --- two whole runs at once (slow: two dbt builds, one after the other) -----------------------------


@pytest.mark.slow
def test_two_qiangji_runs_at_once_both_succeed(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in sorted(generated.glob("*_2006H1.xlsx"))[:6]:
        shutil.copyfile(path, landing / path.name)
    env = cli_env()
    command = [QIANGJI, "run", "--home", str(tmp_path / "home"), "--landing", str(landing)]
    procs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    # each run publishes (exit 0, the attainment table) or says that the other run publishes: a race
    # it may lose, which exits 3 (cli/exit_codes.py)
    codes = [p.returncode for p in procs]
    assert sorted(codes) in ([0, 0], [0, 3]), "\n\n".join(o[-3000:] for o in outputs)
    for code, o in zip(codes, outputs, strict=True):
        assert ("target attainment" in o) if code == 0 else ("published nothing" in o)
    assert any("target attainment" in o for o in outputs)
    assert not any("lock" in o.lower() and "duckdb" in o.lower() for o in outputs)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))  # the storage's base_dir
    instance = dg.DagsterInstance.get()
    try:
        runs = instance.get_runs()
        assert len(runs) == 2 and all(r.is_success for r in runs)
        windows = [_step_windows(instance, r.run_id) for r in runs]
    finally:
        instance.dispose()
    # steps that only read the published copy (the dashboard, the gap workbooks) are outside the pool
    pooled = warehouse_steps()
    in_pool = [{k: w for k, w in run.items() if k in pooled} for run in windows]
    for a in in_pool[0].values():
        for b in in_pool[1].values():
            assert a[1] <= b[0] or b[1] <= a[0], windows


def test_dbt_builds_from_scratch_only_when_the_run_asks(defs):
    from orchestration.project import FULL_REFRESH_TAG, build_args

    assert build_args({}) == ["build"]
    assert build_args({FULL_REFRESH_TAG: "true", "dagster/partition": "x"}) == ["build", "--full-refresh"]
    assert build_args({FULL_REFRESH_TAG: "false"}) == ["build"]
