"""The pseudonymization key: its sources, the keys refused, its fingerprint in the warehouse."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
from pathlib import Path

import duckdb
import pytest

from ingest.keys import (
    KEY_ENV,
    KEY_FILE_ENV,
    MIN_KEY_BYTES,
    KeyMismatchError,
    MissingKeyError,
    UnsafeKeyError,
    ensure_key_fingerprint,
    key_fingerprint,
    load_key,
)

GOOD = "k" * MIN_KEY_BYTES


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)


def _key_file(path: Path, content: str, mode: int = 0o600) -> Path:
    path.write_text(content)
    os.chmod(path, mode)
    return path


def test_the_errors_are_runtime_errors():
    assert issubclass(MissingKeyError, RuntimeError)
    assert issubclass(UnsafeKeyError, RuntimeError)
    assert issubclass(KeyMismatchError, RuntimeError)


def test_without_a_key_and_without_a_demo_file_refuses():
    with pytest.raises(MissingKeyError, match=f"{KEY_ENV} or {KEY_FILE_ENV}"):
        load_key(None)


def test_the_variable_is_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(KEY_ENV, GOOD)
    monkeypatch.setenv(KEY_FILE_ENV, str(_key_file(tmp_path / "k", "f" * 40)))
    assert load_key(tmp_path / "demo.key") == GOOD.encode()  # the variable wins over both files
    assert not (tmp_path / "demo.key").exists()


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_an_empty_or_blank_variable_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str):
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(UnsafeKeyError, match=f"{KEY_ENV} is empty"):
        load_key(tmp_path / "demo.key")  # not silently the demo key instead
    assert not (tmp_path / "demo.key").exists()


def test_a_short_variable_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "x" * (MIN_KEY_BYTES - 1))
    with pytest.raises(UnsafeKeyError) as refused:
        load_key(None)
    message = str(refused.value)
    assert KEY_ENV in message and f"{MIN_KEY_BYTES - 1} bytes" in message and "at least 32" in message
    assert "token_hex" in message  # what to do


def test_a_key_file_is_read_without_its_trailing_newline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(KEY_FILE_ENV, str(_key_file(tmp_path / "k", GOOD + "\n")))
    assert load_key(None) == GOOD.encode()


def test_a_short_key_file_is_refused_after_its_newline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    path = _key_file(tmp_path / "k", "x" * (MIN_KEY_BYTES - 1) + "\n")  # 32 bytes with the newline
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    with pytest.raises(UnsafeKeyError, match=f"{path}.*{MIN_KEY_BYTES - 1} bytes, too short"):
        load_key(None)


def test_an_empty_key_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    path = _key_file(tmp_path / "k", "\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    with pytest.raises(UnsafeKeyError, match=f"{path}.*is empty"):
        load_key(None)


def test_an_empty_file_variable_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(KEY_FILE_ENV, "")
    with pytest.raises(UnsafeKeyError, match=f"{KEY_FILE_ENV} is set but empty"):
        load_key(tmp_path / "demo.key")


def test_a_missing_key_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MissingKeyError, match="does not exist"):
        load_key(tmp_path / "demo.key")  # a named file is never replaced by the demo's


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o606, 0o644, 0o700 | 0o010])
def test_a_key_file_others_may_read_or_change_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: int
):
    path = _key_file(tmp_path / "k", GOOD, mode)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    with pytest.raises(UnsafeKeyError) as refused:
        load_key(None)
    message = str(refused.value)
    assert str(path) in message and KEY_FILE_ENV in message
    assert f"{mode:04o}" in message and f"chmod 600 {path}" in message


def test_an_owner_only_key_file_through_a_symlink_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # how secret stores mount keys: the name is a link, the file behind it is what is checked
    target = _key_file(tmp_path / "real.key", GOOD, 0o400)
    (tmp_path / "link.key").symlink_to(target)
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "link.key"))
    assert load_key(None) == GOOD.encode()
    os.chmod(target, 0o644)
    with pytest.raises(UnsafeKeyError, match="0644"):
        load_key(None)


def test_a_key_file_that_is_not_a_regular_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(KEY_FILE_ENV, str(folder))
    with pytest.raises(UnsafeKeyError, match="not a regular file"):
        load_key(None)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(fifo))
    with pytest.raises(UnsafeKeyError, match="not a regular file"):
        load_key(None)  # refused at once, not waiting for a writer


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user takes root")
def test_a_key_file_of_another_user_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    path = _key_file(tmp_path / "k", GOOD, 0o600)
    os.chown(path, 65534, 65534)
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    with pytest.raises(UnsafeKeyError, match="belongs to user id 65534"):
        load_key(None)


def test_the_demo_key_is_created_owner_only_and_kept(tmp_path: Path):
    demo = tmp_path / "home" / ".pseudonym.key"
    first = load_key(demo)
    assert len(first) == 64 and int(first, 16) >= 0  # secrets.token_hex(32)
    assert stat.S_IMODE(demo.stat().st_mode) == 0o600
    assert stat.S_IMODE(demo.parent.stat().st_mode) & 0o077 == 0
    assert load_key(demo) == first
    assert sorted(p.name for p in demo.parent.iterdir()) == [".pseudonym.key"]  # no partial left


def test_a_demo_key_file_others_may_read_is_refused(tmp_path: Path):
    demo = tmp_path / ".pseudonym.key"
    load_key(demo)
    os.chmod(demo, 0o644)
    with pytest.raises(UnsafeKeyError, match=f"demo key file {demo}.*0644"):
        load_key(demo)


def _load_demo(path: str) -> bytes:
    return load_key(Path(path))


def test_runs_starting_together_on_a_new_home_agree_on_one_demo_key(tmp_path: Path):
    demo = tmp_path / "home" / ".pseudonym.key"
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        keys = pool.map(_load_demo, [str(demo)] * 12)
    assert len(set(keys)) == 1 and keys[0] == demo.read_bytes()


def test_the_fingerprint_names_a_key_and_reveals_nothing_of_it():
    key, other = b"a" * 32, b"b" * 32
    fingerprint = key_fingerprint(key)
    assert fingerprint == key_fingerprint(key) != key_fingerprint(other)
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    assert fingerprint not in key.hex() and fingerprint not in hashlib.sha256(key).hexdigest()


def test_the_warehouse_keeps_the_fingerprint_of_its_key(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    key = b"k" * 32
    with duckdb.connect(str(warehouse)) as con:
        ensure_key_fingerprint(con, key)
    with duckdb.connect(str(warehouse)) as con:
        ensure_key_fingerprint(con, key)  # the same key again: nothing changes
        rows = con.execute("SELECT fingerprint, first_used_at FROM meta.pseudonym_key").fetchall()
    assert len(rows) == 1 and rows[0][0] == key_fingerprint(key) and rows[0][1] is not None


def test_a_run_with_another_key_is_refused(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    old, new = b"o" * 32, b"n" * 32
    with duckdb.connect(str(warehouse)) as con:
        ensure_key_fingerprint(con, old)
    with duckdb.connect(str(warehouse)) as con:
        with pytest.raises(KeyMismatchError) as refused:
            ensure_key_fingerprint(con, new)
        assert con.execute("SELECT fingerprint FROM meta.pseudonym_key").fetchall() == [
            (key_fingerprint(old),)
        ]
    message = str(refused.value)
    assert f"pseudonymized with key {key_fingerprint(old)}" in message
    assert f"this run's key is {key_fingerprint(new)}" in message
    assert "qiangji rebuild" in message and "docs/security.md" in message
    assert old.decode() not in message and new.decode() not in message
