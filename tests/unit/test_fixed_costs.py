"""What removes a run's fixed costs keeps its behaviour: the cached Vega bundle, the pruned dbt
target folders, the background import (docs/performance.md, "The fixed cost of a run")."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.defs.transform import prune_invocation_folders
from orchestration.preload import import_in_background
from reporting.dashboard import page


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    page.vega_bundle.cache_clear()
    yield tmp_path / "cache" / "qiangji"
    page.vega_bundle.cache_clear()


def test_the_vega_bundle_is_made_once_and_read_from_the_cache(cache_home: Path):
    bundle = page.vega_bundle()
    [cached] = list(cache_home.glob("vega-bundle-*.js"))
    assert cached.read_text(encoding="utf-8") == bundle and "vega-embed" in bundle
    assert not list(cache_home.glob(".*partial"))
    cached.write_text("/* kept */", encoding="utf-8")  # what the next process reads, not made anew
    page.vega_bundle.cache_clear()
    assert page.vega_bundle() == "/* kept */"


def test_an_unwritable_cache_makes_the_bundle_every_time(cache_home: Path):
    cache_home.parent.mkdir(parents=True)
    cache_home.write_text("a file where the folder would be")
    assert "vega-embed" in page.vega_bundle()


def _folder(root: Path, name: str, age: float) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")
    stamp = time.time() - age
    os.utime(folder, (stamp, stamp))
    return folder


def test_old_dbt_target_folders_are_pruned_to_the_newest(tmp_path: Path):
    old = [_folder(tmp_path, f"warehouse_models-run{i}-abc{i}", age=100 + i) for i in range(7)]
    current = _folder(tmp_path, "warehouse_models-now-def", age=0)
    other = _folder(tmp_path, "other_op-run-xyz", age=500)
    removed = prune_invocation_folders(current, keep=3)
    assert sorted(removed) == sorted(old[2:])  # the two newest earlier folders and current stay
    assert current.exists() and old[0].exists() and old[1].exists() and other.exists()
    assert not any(p.exists() for p in old[2:])


def test_a_background_import_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "slow_to_import_module.py").write_text("import time\ntime.sleep(0.2)\nVALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    thread = import_in_background("slow_to_import_module")
    thread.join(timeout=10)
    assert sys.modules["slow_to_import_module"].VALUE == 7
    import_in_background("no_such_module_here").join(timeout=10)  # a failure is left to the real import


def test_a_homes_parse_is_kept_and_given_back_whole(tmp_path: Path):
    from orchestration.defs.transform import save_parse
    from orchestration.project import PARTIAL_PARSE, start_from_saved_parse

    saved = tmp_path / "home" / "dbt" / PARTIAL_PARSE
    first, second = tmp_path / "target" / "op-run1-a", tmp_path / "target" / "op-run2-b"
    assert not start_from_saved_parse(first, saved)  # a new home: dbt parses (dagster-dbt's copy)
    first.mkdir(parents=True)
    (first / PARTIAL_PARSE).write_bytes(b"parse of this warehouse")
    save_parse(first, saved)
    assert saved.read_bytes() == b"parse of this warehouse"
    assert oct(saved.parent.stat().st_mode & 0o777) == "0o700" and not list(saved.parent.glob(".*"))
    assert start_from_saved_parse(second, saved)
    assert (second / PARTIAL_PARSE).read_bytes() == b"parse of this warehouse"
    save_parse(tmp_path / "target" / "op-run3-c", saved)  # a build that left none: the saved one stays
    assert saved.read_bytes() == b"parse of this warehouse"


def test_a_file_whose_turn_comes_with_every_reader_busy_waits_for_one(tmp_path: Path):
    """Two readers read three files: the third waits for a free reader and is read by it, never by
    a third process (its imports would cost ≈ 1.8 CPU-s on two cores, and read no faster)."""
    from ingest.isolation import ReaderPool
    from ingest.reader_worker import ReadTask
    from ingest.settings import IngestSettings
    from tests.support.builders import minimal_sheets, write_xlsx

    key, settings = b"fixed-costs-test-key-0123456789abcdef", IngestSettings()
    books = [write_xlsx(tmp_path / f"{code}_2007H1.xlsx", minimal_sheets(code, "2007H1")) for code in
             ("120101", "120102", "120103")]  # fmt: skip
    with ReaderPool(2, settings.reader_memory_bytes, 60) as pool:
        tickets = [pool.submit(ReadTask(b, b.stem, key, settings, tmp_path / b.stem)) for b in books]
        assert [pool.result(t).kind for t in tickets] == ["validated"] * 3
        assert pool.spawned == 2


def test_a_reader_freed_while_a_file_waits_for_its_own_is_given_the_next_file(tmp_path: Path):
    """Files are finished in their order, not read in it: while the first (large) file is read, the
    reader that finished a small one is handed the next file, not left idle until the first is done."""
    import datetime as dt

    from ingest.isolation import ReaderPool
    from ingest.reader_worker import ReadTask
    from ingest.settings import IngestSettings
    from tests.support.builders import make_id, minimal_sheets, write_xlsx

    key, settings = b"fixed-costs-test-key-0123456789abcdef", IngestSettings()
    large = minimal_sheets("120101", "2007H1")
    [member] = large["党员"][:1]
    births = [dt.date(1925, 1, 1) + dt.timedelta(days=n) for n in range(20000)]
    large["党员"] += [{**member, "公民身份号码": make_id("120104", born, 1, True), "出生日期": born}
                   for born in births]  # fmt: skip
    books = [write_xlsx(tmp_path / "120101_2007H1.xlsx", large)] + [
        write_xlsx(tmp_path / f"{code}_2007H1.xlsx", minimal_sheets(code, "2007H1"))
        for code in ("120102", "120103")
    ]
    tasks = [ReadTask(b, b.stem, key, settings, tmp_path / b.stem) for b in books]
    with ReaderPool(2, settings.reader_memory_bytes, 120) as pool:
        first, second = pool.submit(tasks[0]), pool.submit(tasks[1])
        handed: list[int] = []

        def next_file() -> None:  # called only while the first file is still being read
            if not handed:
                handed.append(pool.submit(tasks[2]))

        assert pool.result(first, next_file).kind == "validated"
        assert handed, "the reader of the small file idled until the large one was read"
        assert [pool.result(t).kind for t in (second, *handed)] == ["validated"] * 2
        assert pool.spawned == 2


def test_a_run_of_many_files_starts_no_more_readers_than_its_workers(tmp_path: Path):
    from ingest.isolation import _SHARED, _close_shared
    from ingest.pipeline import ingest_landing
    from tests.support.builders import minimal_sheets, write_xlsx

    _close_shared()  # a pool of this test's own, counted from its start
    codes = ("120101", "120102", "120103", "120104", "120105", "120106")
    books = [write_xlsx(tmp_path / f"{c}_2007H1.xlsx", minimal_sheets(c, "2007H1")) for c in codes]
    key = b"fixed-costs-test-key-0123456789abcdef"
    outcomes = ingest_landing(books, tmp_path / "w.duckdb", tmp_path / "archive", key, workers=2)
    assert [o.status for o in outcomes] == ["accepted"] * len(codes)
    [pool] = _SHARED.values()
    assert pool.spawned == 2


def _parse_in_home(home: Path, executable: str) -> str:
    """`<executable> parse` for `home`'s warehouse from a copy of the project's parse; dbt's log."""
    import shutil
    import subprocess

    from orchestration.project import QUIET_TELEMETRY, dbt_build_env, dbt_project_dir

    project, target = dbt_project_dir(), home / "target"
    target.mkdir(parents=True)
    shutil.copyfile(project / "target" / "partial_parse.msgpack", target / "partial_parse.msgpack")
    env = {**os.environ, **QUIET_TELEMETRY, **dbt_build_env(), "DBT_PROJECT_DIR": str(project),
           "DBT_PROFILES_DIR": str(project), "QIANGJI_WAREHOUSE": str(home / "warehouse.duckdb")}  # fmt: skip
    subprocess.run([executable, "parse", "--target-path", str(target), "--log-path", str(target)],
                   env=env, cwd=project, check=True, capture_output=True)  # fmt: skip
    return (target / "dbt.log").read_text(encoding="utf-8")


def test_every_home_builds_from_the_projects_parse(tmp_path: Path):
    """dbt's parse serves only the profile it was made with, and the warehouse's path is in it:
    `qiangji-dbt` starts dbt in the warehouse's folder so that every home is the same profile
    (orchestration/dbt_entry.py). The venv's plain dbt, given the absolute path, parses anew."""
    from orchestration.project import dbt_build_executable, dbt_executable

    assert dbt_build_executable().endswith("qiangji-dbt")
    changed = "Unable to do partial parsing because profile has changed"
    assert changed not in _parse_in_home(tmp_path / "home", dbt_build_executable())
    assert changed in _parse_in_home(tmp_path / "other", dbt_executable())


def test_the_qiangji_executable_never_imports_spark_or_hypothesis():
    # the console script is cli.entry:main, which refuses both before cli.app imports pandera
    import tomllib

    from warehouse.unused_imports import UNUSED

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["qiangji"] == "cli.entry:main"
    probe = (
        "import sys\n"
        "from warehouse.unused_imports import refuse_unused_imports\n"
        "refuse_unused_imports()\n"
        "import cli.app, ingest.validate\n"  # pandera, which imports both when they are installed
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {UNUSED!r}\n"
        "             and sys.modules[m] is not None))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    # without the refusal they are imported in a venv that has them (the dev one: a test that can fail)
    unrefused = probe.replace("refuse_unused_imports()\n", "")
    done = subprocess.run([sys.executable, "-c", unrefused], capture_output=True, text=True, check=True)
    if importlib.util.find_spec("pyspark") is not None:
        assert "pyspark" in done.stdout
