"""The pseudonymization key: where it comes from, what a usable key is, and which key built the warehouse.

The key is the secret of `person_key` (HMAC-SHA256 of the national ID, ingest.identity). It comes
from `$QIANGJI_PSEUDONYM_KEY`, else from the file `$QIANGJI_PSEUDONYM_KEY_FILE` names, else (the
demo only) from the home's demo key file, created owner-only with a random key. A key that is
empty, shorter than 32 bytes, or kept in a file that anyone but its owner may read or write is
refused, never used.

The warehouse keeps a keyed fingerprint of the key that pseudonymized it (`meta.pseudonym_key`):
a run with another key would give the same person two `person_key`s, so it is refused before it
loads anything. docs/security.md: the rules, and how to rotate a key (rebuild from the archive).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import duckdb

KEY_ENV = "QIANGJI_PSEUDONYM_KEY"
KEY_FILE_ENV = "QIANGJI_PSEUDONYM_KEY_FILE"

# 256 bits: the size of HMAC-SHA256's output; a shorter key is a shorter secret.
MIN_KEY_BYTES = 32
FINGERPRINT_TABLE = "meta.pseudonym_key"
_FINGERPRINT_MESSAGE = b"qiangji key fingerprint v1"
_NEW_KEY_ADVICE = "generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`"
_SECURITY_DOC = "docs/security.md"


class PseudonymKeyError(RuntimeError):
    """The run cannot use a pseudonymization key (the message says why and what to do)."""


class MissingKeyError(PseudonymKeyError):
    """No key at all: neither variable is set and there is no demo key file."""


class UnsafeKeyError(PseudonymKeyError):
    """A key was found but is refused: empty, too short, or in a file others may read or change."""


class KeyMismatchError(PseudonymKeyError):
    """The warehouse was pseudonymized with another key than this run's."""


def load_key(demo_key_file: Path | None = None) -> bytes:
    """The pseudonymization key: $QIANGJI_PSEUDONYM_KEY, or the file $QIANGJI_PSEUDONYM_KEY_FILE names.

    With neither set, `demo_key_file` (the demo's local key) is used, created owner-only (0600) with
    a random key when missing. Without a demo file, refuse: a production run never invents its own
    key. A key file's surrounding whitespace (its trailing newline) is not part of the key.

    Raises MissingKeyError without a key, UnsafeKeyError for a key it refuses (empty or blank,
    under MIN_KEY_BYTES, or a file that is not a regular file of this user, readable or writable
    by group or others).
    """
    value = os.environ.get(KEY_ENV)
    if value is not None:
        fix = f"set {KEY_ENV} to a key of at least {MIN_KEY_BYTES} bytes, or unset it to use {KEY_FILE_ENV}"
        return _checked(value.encode(), KEY_ENV, fix)
    key_file = os.environ.get(KEY_FILE_ENV)
    if key_file is not None and not key_file.strip():
        raise UnsafeKeyError(
            f"{KEY_FILE_ENV} is set but empty: set it to the path of the key file, or unset it"
        )
    path = Path(key_file) if key_file else demo_key_file
    if path is None:
        raise MissingKeyError(
            f"no pseudonymization key: set {KEY_ENV} or {KEY_FILE_ENV} "
            "(the demo, `qiangji run --demo`, writes a local key file)"
        )
    if key_file:
        where = f"the key file {path} ({KEY_FILE_ENV})"
        if not os.path.lexists(path):
            raise MissingKeyError(f"{KEY_FILE_ENV} names {path}, which does not exist")
    else:
        where = f"the demo key file {path}"
        if not os.path.lexists(path):
            _create_demo_key(path)
    return _checked(
        _read_key_file(path, where), where, f"write a key of at least {MIN_KEY_BYTES} bytes to {path}"
    )


def _checked(key: bytes, where: str, fix: str) -> bytes:
    if not key.strip():
        raise UnsafeKeyError(f"{where} is empty: {fix} ({_NEW_KEY_ADVICE})")
    if len(key) < MIN_KEY_BYTES:
        raise UnsafeKeyError(
            f"{where} is {len(key)} bytes, too short: a pseudonymization key needs at least "
            f"{MIN_KEY_BYTES} bytes; {fix} ({_NEW_KEY_ADVICE})"
        )
    return key


def _read_key_file(path: Path, where: str) -> bytes:
    """The key in `path`, once the file it opened proved to be this user's own regular file.

    Checked on the opened file (fstat), not on the name: what is read is what was checked. Opened
    non-blocking, so a FIFO named as the key file is refused instead of waiting for a writer.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError as e:
        raise UnsafeKeyError(f"{where} cannot be read: {e.strerror}") from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeKeyError(f"{where} is not a regular file: name a regular file that holds the key")
        if info.st_uid != os.geteuid():
            raise UnsafeKeyError(
                f"{where} belongs to user id {info.st_uid}, not to the user running qiangji "
                f"({os.geteuid()}): the key file must be this user's own (chown it, or copy the key "
                "into a file of this user with mode 0600)"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise UnsafeKeyError(
                f"{where} has mode {mode:04o}: group or others may read or change the key; "
                f"make it owner-only: chmod 600 {path}"
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read().strip()
    finally:
        os.close(fd)


def _create_demo_key(path: Path) -> None:
    """A random key in `path` (0600), whole or not at all: written aside, then linked into place,
    so that two runs starting together on a new home agree on one key (the second keeps the first's)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        os.link(partial, path)
    except FileExistsError:
        pass  # another run created it meanwhile: its key is the home's key
    finally:
        partial.unlink(missing_ok=True)


def key_fingerprint(key: bytes) -> str:
    """A short name for `key` that reveals nothing of it: HMAC-SHA256 keyed with the key itself over a
    fixed message, first 16 hex characters. The same key always gives the same fingerprint; without
    the key, the fingerprint neither gives it back nor lets anyone test a guessed national ID."""
    return hmac.new(key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def ensure_key_fingerprint(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Record the key's fingerprint in the warehouse on its first load; refuse another key later.

    `meta.pseudonym_key` holds one row: the fingerprint and when it was first used (UTC). A warehouse
    built before fingerprints were kept adopts the key of its first run that calls this.
    Raises KeyMismatchError when the warehouse was pseudonymized with another key.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {FINGERPRINT_TABLE} (fingerprint VARCHAR, first_used_at TIMESTAMP)"
    )
    mine = key_fingerprint(key)
    recorded = [
        fp
        for (fp,) in con.execute(
            f"SELECT fingerprint FROM {FINGERPRINT_TABLE} ORDER BY first_used_at"
        ).fetchall()
    ]
    if not recorded:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.execute(f"INSERT INTO {FINGERPRINT_TABLE} VALUES (?, ?)", [mine, now])
        return
    others = [fp for fp in recorded if fp != mine]
    if others:
        raise KeyMismatchError(
            f"the warehouse was pseudonymized with key {others[0]}, this run's key is {mine}: "
            f"use the same key ({KEY_ENV} or {KEY_FILE_ENV}), or rotate: rebuild the warehouse from "
            f"the archive with the new key (`qiangji rebuild`) — {_SECURITY_DOC}"
        )
