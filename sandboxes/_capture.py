"""Run one host process: capped total output, wall-clock deadline, whole-tree kill, rusage.

Used by ``LocalSandbox`` for every run (the process is bwrap, or the bare program in best-effort
mode). Reading stops once the main process has exited plus a short grace period, so a background
child that keeps the pipes open cannot stall the caller.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

from ._cgroup import PidsCgroup

GRACE_S = 0.05


@dataclass
class Captured:
    """Raw outcome of one process run."""

    stdout: bytes = b""
    stderr: bytes = b""
    returncode: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    killed_reason: str | None = None
    leftovers: bool = False


def _stdin_file(stdin: bytes | None):  # noqa: ANN202
    if stdin is None:
        return subprocess.DEVNULL
    f = tempfile.TemporaryFile()
    f.write(stdin)
    f.seek(0)
    return f


def _kill_tree(proc: subprocess.Popen, cgroup: PidsCgroup | None) -> int:
    """SIGKILL the process group and every member of ``cgroup``; returns how many members were left."""
    # never proc.kill(): Popen.send_signal polls first and would reap the pid before our wait4
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL),
                   lambda: os.kill(proc.pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    return cgroup.kill_all() if cgroup is not None else 0


def run_captured(argv: list[str], *, env: dict[str, str], stdin: bytes | None, timeout_s: float,
                 max_output: int, pass_fds: tuple[int, ...] = (), cwd: str | None = None,
                 cgroup: PidsCgroup | None = None, preexec_fn=None) -> Captured:  # noqa: ANN001
    """Run ``argv`` to completion or deadline; OSError if it cannot be started."""
    if cgroup is not None:  # join the cgroup before anything forks, without a preexec_fn
        argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroup.procs_path, *argv]
    stdin_f = _stdin_file(stdin)
    cwd = cwd or "/"
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=stdin_f, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=cwd, pass_fds=pass_fds, start_new_session=True,
                                close_fds=True, preexec_fn=preexec_fn)
    finally:
        if stdin_f is not subprocess.DEVNULL:
            stdin_f.close()
    res = Captured()
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    total = 0
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pidfd = None
    try:
        pidfd = os.pidfd_open(proc.pid)
        sel.register(pidfd, selectors.EVENT_READ)
    except (AttributeError, OSError):
        pass
    deadline = t0 + timeout_s
    exited_at: float | None = None
    open_fds = set(bufs)
    try:
        while True:
            now = time.monotonic()
            if exited_at is None and pidfd is None and os.waitid(
                    os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                exited_at = now  # (never proc.poll(): it would reap the pid before our wait4)
            if exited_at is not None and (not open_fds or now >= exited_at + GRACE_S):
                break
            limit = deadline if exited_at is None else min(deadline, exited_at + GRACE_S)
            if now >= limit:
                if exited_at is None:
                    res.timed_out, res.killed_reason = True, "timeout"
                break
            wait = limit - now if pidfd is not None else min(limit - now, 0.01)
            for key, _ in sel.select(wait):
                fd = key.fd
                if fd == pidfd:
                    exited_at = time.monotonic()
                    sel.unregister(pidfd)
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(fd)
                    open_fds.discard(fd)
                    continue
                room = max_output - total
                bufs[fd] += chunk[:room]
                total += min(len(chunk), room)
                if len(chunk) > room:
                    res.truncated = True
            if res.truncated:
                res.killed_reason = "output"
                break
    finally:
        left = _kill_tree(proc, cgroup)
        res.leftovers = left > 0 and exited_at is not None
        sel.close()
        if pidfd is not None:
            os.close(pidfd)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        proc.stderr.close()
    res.wall_s = time.monotonic() - t0
    res.returncode = proc.returncode
    res.cpu_s = ru.ru_utime + ru.ru_stime
    res.stdout, res.stderr = bytes(bufs[out_fd]), bytes(bufs[err_fd])
    return res
