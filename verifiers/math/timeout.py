"""Hard time bounds for sympy: a small pool of persistent worker processes.

``sympy_equal(a, b, timeout_s=...)`` sends one job to a warm worker (``_sympy_worker.py``, a
plain ``python`` subprocess, so no fork of a threaded parent, safe under Ray and in daemonic
processes). The worker bounds each job with ``setitimer`` in its own main thread and stays
warm; a job stuck in C code (a 10-billion-digit power) does not answer, so the parent kills
that worker after ``timeout_s + grace`` and starts a fresh one. The call always returns.

The pool belongs to the process that made it: after ``fork`` a child notices the pid change
and builds its own pool (it never talks to or kills its parent's workers). Pool size:
``NEMOGYM_MATH_WORKERS`` (default 1); concurrent callers beyond that wait their turn.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

WORKER_SCRIPT = Path(__file__).with_name("_sympy_worker.py")
STARTUP_TIMEOUT_S = 60.0
GRACE_S = 0.5


@dataclass
class SympyResult:
    """``ok``: True/False when sympy decided, None when it could not (``why`` says why)."""

    ok: bool | None
    why: str


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
        self.ready = False
        self.buf = b""

    def _readline(self, deadline: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                if not sel.select(left):
                    return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None  # the worker died
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def call(self, job: dict, timeout_s: float) -> SympyResult:
        if not self.ready:
            line = self._readline(time.monotonic() + STARTUP_TIMEOUT_S)
            if line is None:
                raise OSError("sympy worker did not start")
            self.ready = True
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({**job, "timeout": timeout_s}) + "\n").encode())
        self.proc.stdin.flush()
        line = self._readline(time.monotonic() + timeout_s + GRACE_S)
        if line is None:
            raise TimeoutError
        data = json.loads(line)
        return SympyResult(data.get("ok"), str(data.get("why", "")))

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


class _Pool:
    def __init__(self, size: int) -> None:
        self.pid = os.getpid()
        self.size = max(1, size)
        self.idle: list[_Worker] = []
        self.count = 0
        self.cond = threading.Condition()
        self.restarts = 0

    def acquire(self) -> _Worker:
        with self.cond:
            while not self.idle and self.count >= self.size:
                self.cond.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            return _Worker()
        except BaseException:
            with self.cond:
                self.count -= 1
                self.cond.notify()
            raise

    def release(self, worker: _Worker | None) -> None:
        with self.cond:
            if worker is None:
                self.count -= 1
            else:
                self.idle.append(worker)
            self.cond.notify()

    def call(self, job: dict, timeout_s: float, _retry: bool = True) -> SympyResult:
        worker = self.acquire()
        if worker.proc.poll() is not None:  # died while idle (killed from outside): replace
            worker.kill()
            self.release(None)
            worker = self.acquire()
        try:
            result = worker.call(job, timeout_s)
        except TimeoutError:
            worker.kill()
            self.restarts += 1
            self.release(None)
            self._prestart()
            return SympyResult(None, f"timeout after {timeout_s:.2f}s (worker replaced)")
        except (OSError, ValueError) as e:
            worker.kill()
            self.release(None)
            if _retry:  # a worker that died under us: one more try on a fresh one
                return self.call(job, timeout_s, _retry=False)
            return SympyResult(None, f"sympy worker failed: {e}")
        self.release(worker)
        return result

    def _prestart(self) -> None:
        """Start the replacement now so that it warms up while the caller goes on."""
        with self.cond:
            if self.count >= self.size:
                return
            self.count += 1
        try:
            w = _Worker()
        except OSError:
            with self.cond:
                self.count -= 1
            return
        self.release(w)

    def close(self) -> None:
        if os.getpid() != self.pid:
            return  # a forked child never kills its parent's workers
        with self.cond:
            workers, self.idle = self.idle, []
            self.count -= len(workers)
        for w in workers:
            w.kill()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = _Pool(int(os.environ.get("NEMOGYM_MATH_WORKERS", "1")))
        return _pool


def sympy_equal(a: str, b: str, *, timeout_s: float = 2.0, mode: str = "equal",
                rel_tol: float = 1e-6) -> SympyResult:
    """Are canonical expressions ``a`` and ``b`` equal (``mode="equal"``) or proportional
    (``"ratio"``; ``"ratio_pos"``: by a positive constant)? Bounded by ``timeout_s``."""
    return _get_pool().call({"a": a, "b": b, "mode": mode, "rel_tol": rel_tol}, timeout_s)


def worker_restarts() -> int:
    """How many workers this process replaced after a timeout (for tests and benches)."""
    return _pool.restarts if _pool is not None and _pool.pid == os.getpid() else 0


def shutdown() -> None:
    """Stop this process's workers (they also exit on their own when the parent goes)."""
    if _pool is not None:
        _pool.close()


atexit.register(shutdown)
