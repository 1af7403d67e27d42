"""A data home is its owner's only; published/ has the mode the deployment chose.

A real `qiangji run --demo` under umask 022 (what most accounts have): everything it creates in the
home but published/ and the landing folder is closed to group and others; published/ gets
QIANGJI_PUBLISHED_MODE (default 0750 folders, 0640 files), the home only the search bit that lets
published/'s readers reach it. docs/security.md.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.builders import minimal_sheets, write_xlsx
from tests.support.cli import QIANGJI, ROOT, cli_env, run_cli
from warehouse.layout import HomeLayout

pytestmark = pytest.mark.slow  # two runs of the whole pipeline (≈1 min each)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _modes(home: Path) -> dict[Path, int]:
    """The mode of the home and of every entry under it, relative to it (symlinks not followed)."""
    found = {Path("."): _mode(home)}
    for folder, folders, files in os.walk(home):
        for name in folders + files:
            path = Path(folder, name)
            if not path.is_symlink():
                found[path.relative_to(home)] = _mode(path)
    return found


def _private_leaks(modes: dict[Path, int]) -> list[str]:
    """Entries of the home (published/ and landing/ apart) that group or others may use."""
    return [
        f"{path} {mode:04o}"
        for path, mode in modes.items()
        if path.parts[:1] not in ((), ("published",), ("landing",)) and mode & 0o077
    ]


def _published(modes: dict[Path, int], home: Path) -> tuple[set[int], set[int]]:
    """The modes of published/'s folders and of its files."""
    entries = {p: m for p, m in modes.items() if p.parts[:1] == ("published",)}
    return (
        {m for p, m in entries.items() if (home / p).is_dir()},
        {m for p, m in entries.items() if (home / p).is_file()},
    )


def _run(home: Path, **env: str) -> None:
    """`qiangji run --demo` (the home's demo key) on the home's landing folder, under umask 022."""
    full_env = cli_env(QIANGJI_LANDING_QUIET_SECONDS="0", **env)
    del full_env["QIANGJI_PSEUDONYM_KEY"]
    result = subprocess.run(
        [QIANGJI, "run", "--home", str(home), "--demo"],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        umask=0o022,  # what most accounts have: the command must not rely on a strict one
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[Path, int]]:
    """A home as an earlier version left it (wide modes), its landing folder inside, run once; the
    home and the modes of everything in it after that run."""
    home = tmp_path_factory.mktemp("permissions") / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    for district in ("120104", "120105"):
        write_xlsx(landing / f"{district}_2007H1.xlsx", minimal_sheets(district, "2007H1"))
    (home / "dagster").mkdir()
    (home / "archive").mkdir()
    (home / "notes.txt").write_text("left by an operator")
    for path in (home, landing, home / "dagster", home / "archive"):
        os.chmod(path, 0o755)
    for path in [home / "notes.txt", *landing.iterdir()]:
        os.chmod(path, 0o644)
    _run(home)
    return home, _modes(home)


def test_everything_in_the_home_is_owner_only(first_run: tuple[Path, dict[Path, int]]):
    home, modes = first_run
    assert _private_leaks(modes) == []
    assert modes[Path(".pseudonym.key")] == 0o600
    assert modes[Path("notes.txt")] == 0o600  # what was there before is closed too
    for folder in ("archive", "dagster", "logs", "quality", "raw_parquet"):
        assert modes[Path(folder)] == 0o700, folder
    archived = [p for p in modes if p.parts[:1] == ("archive",) and (home / p).is_file()]
    assert archived  # the two submissions' bytes, inside the closed archive/
    assert any(p.parts[:1] == ("dagster",) for p in modes) and Path("warehouse.duckdb") in modes


def test_the_home_lets_published_readers_pass_and_nothing_more(first_run: tuple[Path, dict[Path, int]]):
    _, modes = first_run
    assert modes[Path(".")] == 0o710  # group: search, to reach published/; no listing


def test_the_landing_folder_is_left_to_its_uploader(first_run: tuple[Path, dict[Path, int]]):
    _, modes = first_run
    assert modes[Path("landing")] == 0o755
    assert {m for p, m in modes.items() if p.parts[:1] == ("landing",) and p.suffix == ".xlsx"} == {0o644}


def test_published_files_have_the_default_published_mode(first_run: tuple[Path, dict[Path, int]]):
    home, modes = first_run
    assert {Path("published/marts.duckdb"), Path("published/dashboard.html")} <= set(modes)
    assert _published(modes, home) == ({0o750}, {0o640})


def test_published_mode_0700_gives_owner_only_published_files(first_run: tuple[Path, dict[Path, int]]):
    home, _ = first_run
    _run(home, QIANGJI_PUBLISHED_MODE="0700")  # publishes again, and closes what was published
    modes = _modes(home)
    assert _published(modes, home) == ({0o700}, {0o600})
    assert modes[Path(".")] == 0o700  # nobody else reads published/: nobody passes through the home
    assert _private_leaks(modes) == []


def test_an_invalid_published_mode_is_refused_before_anything_runs(tmp_path: Path):
    result = run_cli(
        "run", "--home", str(tmp_path / "home"), "--demo", env={"QIANGJI_PUBLISHED_MODE": "0777"}, check=False
    )
    assert result.returncode == 2
    assert "QIANGJI_PUBLISHED_MODE" in result.stderr and "never write" in result.stderr
    assert not (tmp_path / "home").exists()


def test_configure_closes_the_home_not_the_folders_above_it(tmp_path: Path):
    # in a process of its own: configure sets the process's umask
    home = tmp_path / "srv" / "qiangji" / "home"
    code = (
        "import os, sys; from orchestration.runner import configure; from warehouse.layout import HomeLayout;"
        "configure(HomeLayout.at(sys.argv[1])); print(oct(os.umask(0)))"
    )
    env = cli_env()
    result = subprocess.run(
        [sys.executable, "-c", code, str(home)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0o77"  # what the run creates next is owner-only
    assert _mode(tmp_path / "srv") == _mode(tmp_path / "srv" / "qiangji") == 0o755  # the account's
    assert _mode(home) == 0o710 and _mode(home / "dagster") == 0o700
    assert _mode(home / "dagster" / "dagster.yaml") == 0o600


# --- HomeLayout.make_private on its own -------------------------------------------------------------


def test_make_private_creates_the_folders_owner_only(tmp_path: Path):
    layout = HomeLayout.at(tmp_path / "home")
    previous = os.umask(0o022)
    try:
        layout.make_private(published_mode=0o750)
    finally:
        os.umask(previous)
    assert _mode(layout.home) == 0o710
    for folder in layout.private_folders()[1:]:
        assert _mode(folder) == 0o700, folder
    assert not layout.published.exists() and not layout.landing.exists()


def test_make_private_tightens_what_exists_and_spares_published_landing_and_links(tmp_path: Path):
    layout = HomeLayout.at(tmp_path / "home")
    for folder in (layout.home, layout.archive, layout.published, layout.landing, layout.home / "other"):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
    (layout.home / "warehouse.duckdb").write_bytes(b"")
    os.chmod(layout.home / "warehouse.duckdb", 0o664)
    outside = tmp_path / "outside.txt"
    outside.write_text("")
    os.chmod(outside, 0o644)
    (layout.home / "link").symlink_to(outside)
    elsewhere = tmp_path / "dagster_elsewhere"
    layout.make_private(dagster_home=elsewhere, published_mode=0o700)
    assert _mode(layout.home) == 0o700
    assert _mode(layout.archive) == _mode(layout.home / "other") == _mode(elsewhere) == 0o700
    assert _mode(layout.home / "warehouse.duckdb") == 0o600
    assert _mode(layout.published) == _mode(layout.landing) == 0o755
    assert _mode(outside) == 0o644  # a link's target is not the home's
    assert not layout.dagster_home.exists()


def test_published_readers_of_others_get_the_home_s_search_bit_for_others(tmp_path: Path):
    layout = HomeLayout.at(tmp_path / "home")
    layout.make_private(published_mode=0o755)
    assert _mode(layout.home) == 0o711
