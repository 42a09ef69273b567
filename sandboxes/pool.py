"""``WarmPool``: pre-started workers inside bubblewrap that fork once per job (the fast path).

Each worker is one long-lived bubblewrap sandbox (same flags as ``LocalSandbox``; ``/work`` and
``/tmp`` are size-capped tmpfs) whose pid 1 is ``_zygote.py``: it has pre-imported the common
stdlib and ``unittest``, and forks a child per job with fresh rlimits, a new session, its own
stdin/stdout/stderr and ``/work`` as cwd. After each job every other process in the sandbox is
killed and ``/work``, ``/tmp`` and ``/dev/shm`` are emptied; a worker that saw a timeout, leftover
processes, an output flood or a cleanup failure is replaced, and every worker after
``max_jobs_per_worker`` jobs. Workers are started by one long-lived thread (bwrap's
``--die-with-parent`` follows the starting thread), lazily, in whichever process first runs a job,
so a pool can be pickled into Ray workers. ``arun*`` run on the pool's own threads, never on the
event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import logging
import os
import queue
import select
import signal
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import _bwrap, _limits, _seccomp
from ._cgroup import PidsCgroup, make_cgroup
from ._scratch import check_files, python_files
from .base import ExecResult, Isolation, Limits, Sandbox, SandboxError
from .local import describe_layers, missing_bwrap_message

log = logging.getLogger("nemogym.sandboxes")

ZYGOTE_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_zygote.py")
ZYGOTE_DST = "/opt/nemogym/zygote.py"
# What test code commonly imports (``unittest`` alone costs ~20 ms per fresh start). Kept lean:
# every preloaded page is copied into page tables at each fork (asyncio, via unittest.mock,
# would add ~0.3 ms per job for little use).
DEFAULT_PRELOAD = ("collections", "itertools", "math", "re", "functools", "typing", "heapq",
                   "bisect", "string", "random", "json", "dataclasses", "fractions", "decimal",
                   "statistics", "operator", "copy", "io", "textwrap", "datetime", "enum",
                   "contextlib", "unittest", "traceback", "array", "struct", "select", "signal",
                   "stat")
_REPLY_MARGIN_S = 15.0


class _Worker:
    """Host side of one zygote: its bwrap process, control pipes and pids cgroup."""

    def __init__(self, proc: subprocess.Popen, cgroup: PidsCgroup | None, errfile: Any):
        self.proc, self.cgroup, self.errfile = proc, cgroup, errfile
        self.ready = False
        self.jobs = 0
        self._close_lock = threading.Lock()
        self._closed = False

    def _stderr_tail(self) -> str:
        try:
            self.errfile.seek(0)
            return self.errfile.read()[-800:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def recv(self, timeout_s: float) -> dict:
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s

        def read_exact(n: int) -> bytes:
            buf = bytearray()
            while len(buf) < n:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise TimeoutError("sandbox worker did not answer in time")
                chunk = os.read(fd, n - len(buf))
                if not chunk:
                    raise EOFError("sandbox worker exited: " + (self._stderr_tail() or "no message"))
                buf += chunk
            return bytes(buf)

        (size,) = struct.unpack("!I", read_exact(4))
        return json.loads(read_exact(size))

    def send(self, obj: dict) -> None:
        data = json.dumps(obj).encode()
        data = struct.pack("!I", len(data)) + data
        fd = self.proc.stdin.fileno()
        while data:
            data = data[os.write(fd, data):]

    def close(self) -> None:
        """Kill the worker and release its pipes and cgroup; safe to call twice, from two threads
        (close() of the pool and a job's release can race for the same worker)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for fn in (lambda: os.killpg(self.proc.pid, signal.SIGKILL),
                   lambda: os.kill(self.proc.pid, signal.SIGKILL)):
            try:
                fn()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("sandbox worker %s did not exit", self.proc.pid)
        if self.cgroup is not None:
            self.cgroup.remove()
        for f in (self.proc.stdin, self.proc.stdout, self.errfile):
            try:
                f.close()
            except (OSError, ValueError):  # ValueError: a racing job's write on the closed pipe
                pass


_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_live_pools() -> None:
    """Kill the workers and remove their cgroups when the interpreter exits."""
    for pool in list(_LIVE):
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _fresh_locks_after_fork() -> None:
    """In a forked child, locks held by the parent's other threads would never be released:
    give every live pool (and the bwrap probe) a new one; the pool restarts in the child."""
    _bwrap._probe_lock = threading.Lock()
    for pool in list(_LIVE):
        pool._lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


class _SpawnFailed:
    def __init__(self, error: str):
        self.error = error


class WarmPool(Sandbox):
    """A pool of warm sandboxed workers behind the ``Sandbox`` interface (see module docstring)."""

    def __init__(self, size: int | None = None, *, limits: Limits | None = None,
                 python: str | None = None, python_flags: tuple[str, ...] = ("-E", "-s"),
                 preload: tuple[str, ...] = DEFAULT_PRELOAD, max_jobs_per_worker: int = 500,
                 bwrap: str | None = None, extra_ro_paths: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, tmp_mb: int = 256,
                 start_timeout_s: float = 60.0):
        if size is not None and size < 1:
            raise ValueError("size must be >= 1")
        self.size = size or os.cpu_count() or 2
        self.limits = limits or Limits()
        self.python = python
        self.python_flags = tuple(python_flags)
        self.preload = tuple(preload)
        self.max_jobs_per_worker = max_jobs_per_worker
        self.bwrap = bwrap
        self.extra_ro_paths = tuple(os.path.abspath(p) for p in extra_ro_paths)
        self.env = dict(env or {})
        self.tmp_mb = tmp_mb
        self.start_timeout_s = start_timeout_s
        self._reset_runtime()
        if _bwrap.probe(bwrap) is None:
            raise SandboxError("WarmPool needs bubblewrap: " + missing_bwrap_message())
        self.isolation: Isolation = "bubblewrap"

    def _reset_runtime(self) -> None:
        if not hasattr(self, "_lock"):
            self._lock = threading.Lock()
        self._owner_pid: int | None = None
        self._idle: queue.Queue = queue.Queue()
        self._spawn_q: queue.Queue = queue.Queue()
        self._spawner: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        self._workers: set[_Worker] = set()
        self._stats = {"started": 0, "recycled": 0, "jobs": 0}

    def __getstate__(self) -> dict[str, Any]:
        keep = ("size", "limits", "python", "python_flags", "preload", "max_jobs_per_worker",
                "bwrap", "extra_ro_paths", "env", "tmp_mb", "start_timeout_s", "isolation")
        return {k: self.__dict__[k] for k in keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._reset_runtime()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> WarmPool:
        """Start the workers now (otherwise the first job does); returns self."""
        with self._lock:
            if self._owner_pid == os.getpid() and not self._closed:
                return self
            # first start, after close(), or inherited through fork (those workers are not ours)
            self._reset_runtime()
            self._owner_pid = os.getpid()
            self._features = _bwrap.probe(self.bwrap)
            if self._features is None:
                raise SandboxError("WarmPool needs bubblewrap: " + missing_bwrap_message())
            self._python = _bwrap.resolve_python(self.python)
            self._ro = _bwrap.plan_ro_binds(_bwrap.python_prefixes(self._python) + self.extra_ro_paths)
            self._spawner = threading.Thread(target=self._spawn_loop, name="nemogym-sandbox-spawner",
                                             args=(self._spawn_q, self._idle), daemon=True)
            self._spawner.start()
            self._executor = ThreadPoolExecutor(max_workers=self.size,
                                                thread_name_prefix="nemogym-sandbox")
            for _ in range(self.size):
                self._spawn_q.put(True)
            _LIVE.add(self)
            log.info("WarmPool: %d workers, isolation=bubblewrap %s", self.size, self.describe())
        return self

    def describe(self) -> dict[str, Any]:
        """The layers in force (for logs and reports); the pool adds its own settings."""
        python = _bwrap.resolve_python(self.python)
        return {**describe_layers("bubblewrap", _bwrap.probe(self.bwrap), python),
                "pool_size": self.size, "max_jobs_per_worker": self.max_jobs_per_worker,
                "ptrace_parent": "denied (seccomp; worker non-dumpable)"}

    def close(self) -> None:
        """Kill every worker and stop the threads; a later job starts the pool again."""
        with self._lock:
            if self._owner_pid != os.getpid():
                self._reset_runtime()
                return
            self._closed = True
            self._spawn_q.put(None)
            workers = list(self._workers)
            self._workers.clear()
            executor, spawner = self._executor, self._spawner
            # from here a job may start the pool again (new threads, queues, workers): what this
            # close() stops is what it took above, and it never touches the new pool's state
            self._owner_pid = None
        for w in workers:
            w.close()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if spawner is not None and spawner is not threading.current_thread():
            spawner.join(timeout=10)

    def __enter__(self) -> WarmPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn_loop(self, spawn_q: queue.Queue, idle: queue.Queue) -> None:
        """The long-lived thread that starts every worker (see ``--die-with-parent``)."""
        while True:
            item = spawn_q.get()
            if item is None or self._closed or idle is not self._idle:
                return
            try:
                w = self._spawn()
                with self._lock:
                    if self._closed:
                        w.close()
                        return
                    self._workers.add(w)
                    self._stats["started"] += 1
                idle.put(w)
            except Exception as e:  # noqa: BLE001 - reported to the caller that takes the slot
                log.error("could not start a sandbox worker: %s", e)
                idle.put(_SpawnFailed(str(e)))

    def _spawn(self) -> _Worker:
        cgroup = make_cgroup(self.limits.max_processes + 4)
        sec_fd = _seccomp.filter_fd() if self._features.seccomp else None
        cmd = [_bwrap.inside_path(self._python, self._ro), *self.python_flags, ZYGOTE_DST,
               ",".join(self.preload)]
        mounts = ("--ro-bind", ZYGOTE_SRC, ZYGOTE_DST, "--size", str(self.tmp_mb << 20),
                  "--tmpfs", "/work", "--chdir", "/work")
        argv = _bwrap.build_argv(self._features, cmd, scratch=None, ro_binds=self._ro,
                                 seccomp_fd=sec_fd, as_pid_1=True, tmp_bytes=self.tmp_mb << 20,
                                 env=self.env, extra_mounts=mounts)
        if cgroup is not None:
            argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroup.procs_path, *argv]
        errfile = tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=errfile, env=_bwrap.MINIMAL_ENV, cwd="/",
                                    pass_fds=(sec_fd,) if sec_fd is not None else (),
                                    start_new_session=True, close_fds=True)
        except OSError:
            errfile.close()
            if cgroup is not None:
                cgroup.remove()
            raise
        finally:
            if sec_fd is not None:
                os.close(sec_fd)
        return _Worker(proc, cgroup, errfile)

    # -- running jobs ------------------------------------------------------------------------
    def _acquire(self) -> _Worker:
        if self._owner_pid != os.getpid() or self._closed:
            self.start()
        while True:
            try:
                item = self._idle.get(timeout=1.0)
            except queue.Empty:
                if self._closed or self._owner_pid != os.getpid():
                    raise SandboxError("the sandbox pool was closed while waiting for a worker") from None
                continue
            if isinstance(item, _SpawnFailed):
                self._spawn_q.put(True)  # let a later caller try again
                raise SandboxError(f"could not start a sandbox worker: {item.error}")
            if not item.ready:
                try:
                    hello = item.recv(self.start_timeout_s)
                except (TimeoutError, EOFError, OSError, ValueError) as e:
                    self._retire(item)
                    raise SandboxError(f"sandbox worker failed to start: {e}") from e
                if hello.get("dumpable"):
                    log.warning("sandbox worker could not make itself non-dumpable")
                item.ready = True
            return item

    def _retire(self, w: _Worker) -> None:
        with self._lock:
            self._workers.discard(w)
            closed = self._closed
        w.close()
        if not closed:
            self._spawn_q.put(True)

    def stats(self) -> dict[str, int]:
        """Counters in this process: workers ``started``, ``recycled``, ``jobs`` run, ``alive``."""
        with self._lock:
            return {**self._stats, "alive": len(self._workers)}

    def _release(self, w: _Worker, reply: dict | None) -> None:
        suspicious = reply is None or reply.get("timed_out") or reply.get("leftovers") \
            or reply.get("truncated") or not reply.get("clean", False)
        with self._lock:
            self._stats["jobs"] += 1
            stale = w not in self._workers  # close() took it (the pool may have started again)
        if stale:
            w.close()
            return
        if suspicious or w.jobs >= self.max_jobs_per_worker or self._closed:
            with self._lock:
                self._stats["recycled"] += 1
            self._retire(w)
        else:
            self._idle.put(w)

    def _job(self, job: dict, limits: Limits) -> ExecResult:
        nproc = _limits.nproc_limit(limits)
        job["rlimits"] = [[r, s, h] for r, (s, h) in _limits.rlimit_table(limits, nproc).items()]
        job["timeout"] = limits.timeout_s
        job["max_output"] = limits.max_output_bytes
        w = self._acquire()
        reply = None
        try:
            if w.cgroup is not None:
                w.cgroup.set_max(limits.max_processes + 4)
            w.jobs += 1
            w.send(job)
            reply = w.recv(limits.timeout_s + _REPLY_MARGIN_S)
        except (TimeoutError, EOFError, OSError, ValueError) as e:
            self._release(w, None)
            raise SandboxError(f"sandbox worker failed during the job: {e}") from e
        if "error" in reply:
            self._release(w, None)
            raise SandboxError("sandbox worker error: " + reply["error"])
        self._release(w, reply)
        return _to_result(reply)

    def run(self, argv: list[str], *, files: dict[str, str | bytes] | None = None,
            stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        """Fork the worker and exec ``argv`` (PATH lookup inside the sandbox) in ``/work``."""
        if not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError("argv must be a non-empty list of strings")
        job = {"kind": "exec", "argv": list(argv), **_payload(check_files(files), stdin)}
        return self._job(job, limits or self.limits)

    def run_python(self, code: str, *, files: dict[str, str | bytes] | None = None,
                   stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        """Run ``code`` as ``/work/main.py`` (``__name__ == "__main__"``) in a forked worker."""
        checked = python_files(code, files)
        job = {"kind": "python", "code": code, **_payload(checked, stdin)}
        return self._job(job, limits or self.limits)

    async def arun(self, argv: list[str], **kwargs: Any) -> ExecResult:
        return await self._in_pool(self.run, argv, **kwargs)

    async def arun_python(self, code: str, **kwargs: Any) -> ExecResult:
        return await self._in_pool(self.run_python, code, **kwargs)

    async def _in_pool(self, fn: Any, arg: Any, **kwargs: Any) -> ExecResult:
        if self._owner_pid != os.getpid() or self._closed:
            await asyncio.get_running_loop().run_in_executor(None, self.start)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, lambda: fn(arg, **kwargs))
        except RuntimeError as e:  # the executor was shut down by a concurrent close()
            if "shutdown" not in str(e):
                raise
            raise SandboxError("the sandbox pool was closed") from e
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # our caller was cancelled
            # close() cancelled the queued job: an infra failure, not the caller's cancellation
            raise SandboxError("the sandbox pool was closed before the job ran") from None


def _payload(files: dict[str, bytes], stdin: str | bytes | None) -> dict:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return {"files": {k: base64.b64encode(v).decode() for k, v in files.items()},
            "stdin": None if data is None else base64.b64encode(data).decode()}


def _to_result(reply: dict) -> ExecResult:
    stderr = base64.b64decode(reply["stderr"])
    mem = _limits.looks_like_memory_error(stderr, reply["exit_code"])
    reason = "timeout" if reply["timed_out"] else "output" if reply["truncated"] else \
        "memory" if mem else None
    return ExecResult(stdout=base64.b64decode(reply["stdout"]).decode(errors="replace"),
                      stderr=stderr.decode(errors="replace"), exit_code=reply["exit_code"],
                      signal=reply["signal"], timed_out=reply["timed_out"], memory_exceeded=mem,
                      output_truncated=reply["truncated"], wall_s=reply["wall_s"],
                      cpu_s=reply["cpu_s"], isolation="bubblewrap",
                      leftover_processes=reply["leftovers"], killed_reason=reason)
