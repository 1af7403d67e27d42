"""Read each submission in a child process with memory and time limits (`ingest.reader_worker`).

No file can take the run down: a reader that exhausts its address space (RLIMIT_AS), crashes
(an abort in the Rust xlsx reader, a segfault) or runs past its time limit is a rejection of that
file with its own rule — `reader_memory`, `reader_crashed`, `reader_timeout` — and a new worker
takes the next file. A worker killed by someone else (the kernel's OOM killer when the machine
runs short of memory, an operator) is the server's problem, not the file's: that file stays
pending and is read again by a later run.

Workers are long-lived (their imports cost ≈1.5 s): a pool of `workers` processes, one file each
at a time, started when the pool opens. `reader_pool` lends a process-wide pool, kept between
calls (a test suite, `qiangji check` over many files), to one caller at a time.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from ingest.errors import Problem
from ingest.reader_worker import ReadResult, ReadTask, receive, send

START_TIMEOUT_SECONDS = 120.0
_MEMORY_MARKS = (b"memory allocation of", b"MemoryError", b"Cannot allocate memory", b"out of memory")


_log = logging.getLogger("qiangji.ingest")


class ReaderStartError(RuntimeError):
    """No reader process could be started (the server's fault, never the file's): a file given to
    the pool then stays pending, retried by a later run."""


def _stderr_tail(stream: IO[bytes], size: int) -> bytes:
    """The last `size` bytes a worker wrote to its stderr."""
    stream.seek(0, os.SEEK_END)
    end = stream.tell()
    stream.seek(max(end - size, 0))
    return stream.read()


def _tail(stream: IO[bytes], size: int = 4000) -> str:
    """The end of a worker's stderr (a traceback of an import, never a file's content: a worker that
    did not start read no file), IDs masked all the same."""
    from ingest.identity import mask_ids_in_text

    try:
        return mask_ids_in_text(_stderr_tail(stream, size).decode("utf-8", "replace"))
    except (OSError, ValueError):
        return "(its error output could not be read)"


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]  # a private temporary file: inspected after a crash; logged only if it never started
    ready: bool = False  # said "ready" (its imports are done)
    task: ReadTask | None = None
    started_at: float = 0.0
    killed_for_time: bool = False

    @property
    def stdout(self) -> IO[bytes]:
        return self.process.stdout  # type: ignore[return-value]


@dataclass
class ReaderPool:
    """Up to `workers` files read at once, each in its own child process."""

    workers: int
    memory_bytes: int
    timeout_seconds: float
    _idle: list[_Worker] = field(default_factory=list)
    _busy: dict[int, _Worker] = field(default_factory=dict)  # ticket -> worker
    _done: dict[int, ReadResult] = field(default_factory=dict)
    _next_ticket: int = 0
    spawned: int = 0  # readers started so far (replacements of dead ones included)

    def __enter__(self) -> ReaderPool:
        # started now, awaited when first given a file: their imports overlap the run's own work
        self._idle = [self._spawn() for _ in range(max(self.workers, 1))]
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self._idle + list(self._busy.values()):
            self._stop(worker)
        self._idle.clear()
        self._busy.clear()

    # --- the workers ---------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        self.spawned += 1
        stderr = tempfile.TemporaryFile(prefix="qiangji-reader-")
        process = subprocess.Popen(
            # -P: the current folder is not put first on the worker's path, so a stray `polars.py`
            # or `dbt.py` where a run is started from cannot stand in for the modules it imports
            [sys.executable, "-P", "-m", "ingest.reader_worker", str(self.memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            close_fds=True,
            start_new_session=True,  # a Ctrl-C of the run reaches the run; the run stops its workers
            env={**os.environ, "POLARS_MAX_THREADS": os.environ.get("POLARS_MAX_THREADS", "2")},
        )
        return _Worker(process, stderr)

    def _await_ready(self, worker: _Worker) -> None:
        if worker.ready:
            return
        if not self._readable(worker, START_TIMEOUT_SECONDS) or receive(worker.stdout) != "ready":
            why = _tail(worker.stderr)
            self._stop(worker)
            _log.error("a reader process did not start; its last words:\n%s", why)
            raise ReaderStartError("the reader process did not start (its error is in the run's log)")
        worker.ready = True

    @staticmethod
    def _readable(worker: _Worker, timeout: float) -> bool:
        with selectors.DefaultSelector() as sel:
            sel.register(worker.stdout, selectors.EVENT_READ)
            return bool(sel.select(timeout))

    @staticmethod
    def _stop(worker: _Worker) -> None:
        """End a worker at once: it holds nothing of value between tasks (its results are written),
        and a clean interpreter exit with polars loaded takes half a second."""
        with contextlib.suppress(OSError):
            worker.process.stdin.close()  # type: ignore[union-attr]
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()
        worker.process.stdout.close()  # type: ignore[union-attr]
        worker.stderr.close()

    # --- tasks ------------------------------------------------------------------------------------

    @property
    def free(self) -> int:
        return len(self._idle)

    def submit(self, task: ReadTask) -> int:
        """Give a file to an idle worker; a ticket for `result`. With every worker busy, it waits for
        one to finish (its result is kept for its own `result`) rather than start one more: a third
        reader on two cores adds its imports (≈ 1.8 CPU-s) and reads no faster."""
        while not self._idle and self._busy:
            self._collect()
        worker = self._idle.pop() if self._idle else self._spawn()
        try:
            self._await_ready(worker)
        except RuntimeError:  # died before it was ready (killed while idle): one more try
            worker = self._spawn()
            self._await_ready(worker)  # a second failure stops the run: the server cannot start readers
        ticket = self._next_ticket
        self._next_ticket += 1
        worker.task, worker.started_at, worker.killed_for_time = task, time.monotonic(), False
        try:
            send(worker.process.stdin, task)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):  # died while idle: its result is read as a crash below
            pass
        self._busy[ticket] = worker
        return ticket

    def result(self, ticket: int, when_free: Callable[[], None] | None = None) -> ReadResult:
        """Wait for a file's result, reading the others' as they come; `when_free` is called whenever
        a reader is freed meanwhile, so that it can be given the next file instead of idling until
        this one is done (files are finished in their order, not read in it)."""
        while ticket not in self._done:
            self._collect()
            if when_free is not None and self._idle and ticket not in self._done:
                when_free()
        return self._done.pop(ticket)

    def _collect(self) -> None:
        """Wait until a busy worker answers, dies or runs out of time; record its result."""
        now = time.monotonic()
        deadline = min(w.started_at + self.timeout_seconds for w in self._busy.values())
        with selectors.DefaultSelector() as sel:
            for ticket, worker in self._busy.items():
                sel.register(worker.stdout, selectors.EVENT_READ, ticket)
            ready = sel.select(max(deadline - now, 0.0))
        if not ready:  # the oldest task is out of time
            ticket, worker = min(self._busy.items(), key=lambda kv: kv[1].started_at)
            worker.killed_for_time = True
            worker.process.kill()
            worker.process.wait()
            self._finish(ticket, None)
            return
        for key, _ in ready:
            ticket = key.data
            worker = self._busy[ticket]
            message = receive(worker.stdout)
            self._finish(ticket, message if isinstance(message, ReadResult) else None)

    def _finish(self, ticket: int, result: ReadResult | None) -> None:
        worker = self._busy.pop(ticket)
        task = worker.task
        assert task is not None
        if result is not None:
            worker.task = None
            self._idle.append(worker)
            self._done[ticket] = result
            return
        self._done[ticket] = self._death(worker, task)
        self._replace(worker)

    def _replace(self, dead: _Worker) -> None:
        """A new worker in place of one that died (started now, awaited when first given a file)."""
        self._stop(dead)
        self._idle.append(self._spawn())

    def _death(self, worker: _Worker, task: ReadTask) -> ReadResult:
        """What a worker's death says of the file it was reading."""
        if worker.process.poll() is None:  # closed its output yet alive: no use any more
            worker.process.kill()
        code = worker.process.wait()
        name = task.path.name
        if worker.killed_for_time:
            return ReadResult("error", Problem(name, "reader_timeout", "structural"), "timeout")
        tail = _stderr_tail(worker.stderr, 65536)
        if any(mark in tail for mark in _MEMORY_MARKS):
            return ReadResult("error", Problem(name, "reader_memory", "structural"), f"exit {code}")
        if code == -signal.SIGKILL:  # not our kill: the OOM killer or an operator — not the file's fault
            return ReadResult("environment", detail="reader killed (SIGKILL)")
        return ReadResult("error", Problem(name, "reader_crashed", "structural"), f"exit {code}")


_SHARED: dict[tuple[int, int, float, str | None], ReaderPool] = {}
_SHARED_LOCK = threading.Lock()
_LENT: set[tuple[int, int, float, str | None]] = set()


@contextlib.contextmanager
def reader_pool(workers: int, memory_bytes: int, timeout_seconds: float) -> Iterator[ReaderPool]:
    """A pool of readers with these limits: the process's shared one if it is free, else a new one."""
    limits = (max(workers, 1), memory_bytes, timeout_seconds)
    # workers see the environment of their start: a changed temporary folder needs new ones
    key = (*limits, os.environ.get("TMPDIR"))
    with _SHARED_LOCK:
        lend = key not in _LENT
        if lend:
            _LENT.add(key)
    if not lend:
        with ReaderPool(*limits) as pool:
            yield pool
        return
    try:
        pool = _SHARED.get(key)
        if pool is None:
            pool = _SHARED[key] = ReaderPool(*limits).__enter__()
        if pool._busy:  # a caller stopped mid-way: its results are of no use to the next one
            pool.__exit__(None, None, None)
            pool = _SHARED[key] = ReaderPool(*limits).__enter__()
        yield pool
    finally:
        pool._done.clear()
        with _SHARED_LOCK:
            _LENT.discard(key)


@atexit.register
def _close_shared() -> None:
    for pool in _SHARED.values():
        pool.__exit__(None, None, None)
    _SHARED.clear()
