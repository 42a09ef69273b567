"""Warm worker run INSIDE bubblewrap as pid 1 of its pid namespace: fork one child per job.

Standalone on purpose (no nemogym imports): the sandbox only sees this file, bound read-only.
Protocol on fds 0/1: 4-byte big-endian length + JSON, one request then one reply. Being pid 1
matters: signals from the job (``kill(getppid(), SIGKILL)``) are dropped by the kernel, orphans
(``setsid`` double forks) are re-parented here, and ``kill(-1, SIGKILL)`` after each job kills
every other process in the namespace. The worker is non-dumpable, so jobs cannot ptrace it or
open its /proc files (the seccomp filter also denies ptrace).
"""

import base64
import ctypes
import gc
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback
import types

WORK = "/work"
SCRUB = ("/work", "/tmp", "/dev/shm")
GRACE_S = 0.05


def _recv(fd):
    head = _read_exact(fd, 4)
    if head is None:
        return None
    body = _read_exact(fd, struct.unpack("!I", head)[0])
    return None if body is None else json.loads(body)


def _read_exact(fd, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _send(fd, obj):
    data = json.dumps(obj).encode()
    data = struct.pack("!I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _force_remove(path):
    """Delete ``path`` even when a job made it unreadable (chmod before listing)."""
    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, 0o700)
        for name in os.listdir(path):
            _force_remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


def _scrub():
    """Empty the writable dirs; True when everything could be removed."""
    clean = True
    for d in SCRUB:
        try:
            os.chmod(d, 0o755 if d == WORK else 0o1777)  # a job may have locked the dir
            names = os.listdir(d)
        except OSError:
            clean = False
            continue
        for name in names:
            try:
                _force_remove(os.path.join(d, name))
            except (OSError, RecursionError):
                clean = False
    for kind in ("shm", "msg", "sem"):  # SysV IPC objects outlive the job: recycle the worker
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                if len(f.read().splitlines()) > 1:
                    clean = False
        except OSError:
            pass
    return clean


def _child(job, stdin_fd, out_w, err_w):
    """In the forked child: set up fds, limits and cwd, then run the program; never returns."""
    rc = 1
    try:
        os.setsid()
        os.dup2(stdin_fd, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, 1 << 16)
        os.chdir(WORK)
        for res, soft, hard in job["rlimits"]:
            resource.setrlimit(res, (soft, hard))
        if job["kind"] == "exec":
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            argv = job["argv"]
            os.execvpe(argv[0], argv, dict(os.environ))
        signal.signal(signal.SIGINT, signal.default_int_handler)  # jobs behave like `python`
        sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace",
                                           closefd=False)
        sys.argv = ["main.py", *job.get("args", [])]
        sys.path[0] = WORK
        main = types.ModuleType("__main__")
        main.__file__ = WORK + "/main.py"
        main.__builtins__ = __builtins__
        sys.modules["__main__"] = main
        try:
            exec(compile(job["code"], WORK + "/main.py", "exec"), main.__dict__)
            rc = 0
        except SystemExit as e:
            if e.code is None:
                rc = 0
            elif isinstance(e.code, int):
                rc = e.code & 0xFF
            else:
                print(e.code, file=sys.stderr)
                rc = 1
        except BaseException as e:  # hide this file's frame, as `python main.py` would
            traceback.print_exception(type(e), e, e.__traceback__.tb_next)
            rc = 1
        try:
            import threading
            threading._shutdown()
        except BaseException:
            pass
        try:
            import atexit
            atexit._run_exitfuncs()
        except BaseException:
            pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
    except BaseException:
        try:
            os.write(2, traceback.format_exc().encode(errors="replace"))
        except BaseException:
            pass
        rc = 127 if job["kind"] == "exec" else 1
    os._exit(rc)


def _others():
    """Pids in this namespace other than ours (pid 1)."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and p != "1"]


def _stdin_fd(job):
    if job.get("stdin") is None:
        return os.open("/dev/null", os.O_RDONLY)
    fd = os.memfd_create("stdin")
    data = base64.b64decode(job["stdin"])
    while data:
        data = data[os.write(fd, data):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def fork_standby():
    """Fork the next job's process ahead of time (fork is slow in VMs); it waits for its job.

    Returns (pid, job_w, out_r, err_r, pidfd). Forked only after the previous job's cleanup,
    so it carries nothing of that job.
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    job_r, job_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (out_r, err_r, job_w):
                os.close(fd)
            job = _recv(job_r)
            if job is None:
                os._exit(0)
            stdin_fd = _stdin_fd(job)
        except BaseException:
            os._exit(1)
        _child(job, stdin_fd, out_w, err_w)
    for fd in (out_w, err_w, job_r):
        os.close(fd)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    return pid, job_w, out_r, err_r, pidfd


def _close_standby(standby):
    pid, job_w, out_r, err_r, pidfd = standby
    for fd in (job_w, out_r, err_r) + ((pidfd,) if pidfd is not None else ()):
        os.close(fd)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def run_job(job, standby):
    """Run ``job`` in the standby process; returns the reply dict."""
    for name, b64 in job.get("files", {}).items():
        path = os.path.join(WORK, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(b64))
    t0 = time.monotonic()
    pid, job_w, out_r, err_r, pidfd = standby
    _send(job_w, job)
    os.close(job_w)
    bufs = {out_r: bytearray(), err_r: bytearray()}
    open_fds = [out_r, err_r]
    cap, total = job["max_output"], 0
    deadline = t0 + job["timeout"]
    exited_at = None
    timed_out = truncated = False
    while True:
        now = time.monotonic()
        if exited_at is None and pidfd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
            exited_at = now
        if exited_at is not None and (not open_fds or now >= exited_at + GRACE_S):
            break
        limit = deadline if exited_at is None else min(deadline, exited_at + GRACE_S)
        if now >= limit:
            timed_out = exited_at is None
            break
        watch = open_fds + ([pidfd] if pidfd is not None and exited_at is None else [])
        wait = (limit - now) if pidfd is not None else min(limit - now, 0.01)
        ready = select.select(watch, [], [], wait)[0] if watch else time.sleep(wait) or []
        for fd in ready:
            if fd == pidfd:
                exited_at = time.monotonic()
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.remove(fd)
                continue
            room = cap - total
            bufs[fd] += chunk[:room]
            total += min(len(chunk), room)
            truncated = truncated or len(chunk) > room
        if truncated:
            break
    if exited_at is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    leftovers = _others()
    if leftovers:
        os.kill(-1, signal.SIGKILL)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    for fd in (out_r, err_r) + ((pidfd,) if pidfd is not None else ()):
        os.close(fd)
    clean = _scrub()
    code = os.waitstatus_to_exitcode(status)
    stderr = bytes(bufs[err_r])
    return {"stdout": base64.b64encode(bytes(bufs[out_r])).decode(),
            "stderr": base64.b64encode(stderr).decode(),
            "exit_code": code if code >= 0 else None, "signal": -code if code < 0 else None,
            "timed_out": timed_out, "truncated": truncated, "wall_s": wall,
            "cpu_s": ru.ru_utime + ru.ru_stime, "leftovers": bool(leftovers), "clean": clean}


def main():
    if os.getpid() != 1:  # kill(-1) below would hit every process of this uid outside a pid ns
        sys.exit("zygote: refusing to run outside its own pid namespace (must be pid 1)")
    # As pid 1 of its namespace, the zygote gets only the signals it has handlers for; Python's
    # SIGINT handler would let any job raise KeyboardInterrupt here (killing the run: masked).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
        dumpable = False
    except (OSError, AttributeError):
        dumpable = True
    preload_failed = []
    for mod in sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else []:
        try:
            __import__(mod)
        except BaseException:
            preload_failed.append(mod)
    _send(ctl_out, {"ready": True, "pid": os.getpid(), "dumpable": dumpable,
                    "preload_failed": preload_failed})
    gc.freeze()  # keep the preloaded objects out of the children's collections (fewer COW faults)
    standby = fork_standby()
    while True:
        job = _recv(ctl_in)
        if job is None:
            _close_standby(standby)
            return
        try:
            reply = run_job(job, standby)
        except BrokenPipeError:  # the standby process died before its job: one fresh try
            _close_standby(standby)
            try:
                reply = run_job(job, fork_standby())
            except BaseException:
                reply = {"error": traceback.format_exc()[-2000:]}
        except BaseException:
            reply = {"error": traceback.format_exc()[-2000:]}
        _send(ctl_out, reply)
        standby = fork_standby()


if __name__ == "__main__":
    main()
