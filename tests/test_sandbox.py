"""Sandbox behaviour: results, files, stdin, limits, refusal, best-effort, pool lifecycle, asyncio.

Every test runs real programs in the real sandboxes (bubblewrap must be installed).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time

import pytest
from nemogym.sandboxes import (
    ExecResult,
    Limits,
    LocalSandbox,
    SandboxError,
    WarmPool,
    default_sandbox,
    isolation_available,
)
from nemogym.sandboxes._cgroup import cgroup_base

FAST = Limits(timeout_s=5, memory_mb=512, max_processes=32)


@pytest.fixture(scope="module")
def local() -> LocalSandbox:
    return LocalSandbox(limits=FAST)


@pytest.fixture(scope="module")
def pool():
    p = WarmPool(2, limits=FAST).start()
    yield p
    p.close()


@pytest.fixture(params=["local", "pool"])
def sb(request, local, pool):
    return local if request.param == "local" else pool


def test_bubblewrap_is_available_here():
    assert isolation_available(), "install bubblewrap (apt-get install bubblewrap)"


def test_python_result_fields(sb):
    r = sb.run_python("import os, sys\nprint('hi', os.getuid(), os.getcwd())\n"
                      "print('oops', file=sys.stderr)\nsys.exit(3)")
    assert isinstance(r, ExecResult)
    assert r.stdout == "hi 65534 /work\n"
    assert r.stderr == "oops\n"
    assert (r.exit_code, r.signal, r.timed_out, r.output_truncated) == (3, None, False, False)
    assert r.isolation == "bubblewrap"
    assert not r.ok and r.wall_s > 0


def test_files_and_stdin(sb):
    files = {"pkg/helper.py": "def double(x):\n    return 2 * x\n", "data.bin": b"\x00\x01\xff"}
    code = ("import sys\nfrom pkg.helper import double\n"
            "print(double(int(sys.stdin.readline())), open('data.bin', 'rb').read().hex())")
    r = sb.run_python(code, files=files, stdin="21\n")
    assert r.ok, r.stderr
    assert r.stdout == "42 0001ff\n"


def test_run_argv(sb):
    r = sb.run(["sh", "-c", "cat in.txt; read x; echo got $x; echo err >&2; exit 7"],
               files={"in.txt": "file\n"}, stdin=b"line\n")
    assert (r.stdout, r.stderr, r.exit_code) == ("file\ngot line\n", "err\n", 7)


def test_scratch_is_fresh_each_run(sb):
    r1 = sb.run_python("open('left.txt', 'w').write('x'); open('/tmp/t', 'w').write('x')")
    assert r1.ok, r1.stderr
    r2 = sb.run_python("import os\nprint(sorted(os.listdir('.')), os.listdir('/tmp'))")
    assert r2.stdout == "['main.py'] []\n"


def test_program_that_closes_its_output_still_runs_to_the_end(sb):
    code = "import os, time\nprint('a', flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(0.3)\nos._exit(4)"
    r = sb.run_python(code)
    assert (r.stdout, r.exit_code, r.timed_out) == ("a\n", 4, False) and r.wall_s >= 0.3


def test_killed_by_signal_is_reported(sb):
    r = sb.run_python("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)")
    assert r.signal == signal.SIGTERM and r.exit_code is None and not r.timed_out


def test_exceptions_exit_1_with_traceback(sb):
    r = sb.run_python("def f():\n    raise ValueError('bad')\nf()")
    assert r.exit_code == 1
    assert "ValueError: bad" in r.stderr and 'File "/work/main.py", line 3' in r.stderr
    assert "zygote" not in r.stderr


def test_output_cap_is_a_total(sb):
    code = "import sys\nsys.stdout.write('o' * 6000)\nsys.stdout.flush()\nsys.stderr.write('e' * 6000)"
    r = sb.run_python(code, limits=FAST.model_copy(update={"max_output_bytes": 8000}))
    assert r.output_truncated and r.killed_reason == "output"
    assert len(r.stdout) + len(r.stderr) <= 8000
    assert r.stdout.startswith("o" * 6000)


def test_file_size_and_open_files_limits(sb):
    lim = FAST.model_copy(update={"max_file_bytes": 1 << 20, "max_open_files": 32})
    r = sb.run_python("open('big', 'wb').write(b'x' * (2 << 20))", limits=lim)
    assert r.exit_code == 1 and "File too large" in r.stderr
    r = sb.run_python("fs = [open('main.py') for _ in range(100)]", limits=lim)
    assert r.exit_code == 1 and "Too many open files" in r.stderr


def test_bad_input_is_a_clear_error(sb):
    for files in ({"../escape": "x"}, {"/etc/passwd": "x"}, {"a/../../b": "x"}, {"ok": 3}):
        with pytest.raises(ValueError):
            sb.run_python("pass", files=files)
    with pytest.raises(ValueError, match="main.py"):
        sb.run_python("pass", files={"main.py": "x"})
    with pytest.raises(ValueError):
        sb.run([])
    for bad in ({"timeout_s": 0}, {"memory_mb": -1}, {"max_processes": 0}):
        with pytest.raises(ValueError):
            Limits(**bad)
    with pytest.raises(ValueError):
        sb.run_python(b"print(1)")  # type: ignore[arg-type]
    assert sb.run_python("print('still fine')").stdout == "still fine\n"


def test_file_names_that_cannot_be_created_are_a_value_error(sb):
    """A name that is the scratch dir itself, a file that is also a parent dir of another
    file, a NUL or an over-long component is the caller's mistake on every backend: a
    ValueError, not a program failure (cold bwrap exited 1) or a masked SandboxError (pool)."""
    for files in ({".": "x"}, {"a": "x", "a/b": "y"}, {"a/b": "y", "a": "x"}, {"a\x00b": "x"},
                  {"x" * 300: "x"}, {"d/" + "y" * 256 + "/f": "x"}):
        with pytest.raises(ValueError):
            sb.run_python("pass", files=files)
    with pytest.raises(ValueError):
        sb.run_python("pass", files={"main.py/x": "y"})  # main.py is the program, not a dir
    r = sb.run_python("print(open('a/b').read(), open('c').read())", files={"a/b": "1", "./c": "2"})
    assert r.stdout == "1 2\n"


def test_refuses_without_bubblewrap_unless_opted_in(caplog):
    with pytest.raises(SandboxError, match="allow_unsandboxed=True"):
        LocalSandbox(bwrap="/nonexistent/bwrap")
    with pytest.raises(SandboxError, match="bubblewrap"):
        WarmPool(1, bwrap="/nonexistent/bwrap")
    with pytest.raises(SandboxError):
        default_sandbox(bwrap="/nonexistent/bwrap")
    with caplog.at_level(logging.WARNING, logger="nemogym.sandboxes"):
        sb = LocalSandbox(bwrap="/nonexistent/bwrap", allow_unsandboxed=True, limits=FAST)
    assert sb.isolation == "best-effort"
    assert "best-effort" in caplog.text
    r = sb.run_python("import sys; print(sys.stdin.read().upper()); open('f', 'w')", stdin="abc")
    assert (r.stdout, r.exit_code, r.isolation) == ("ABC\n", 0, "best-effort")
    r = sb.run_python("import time; time.sleep(30)", limits=FAST.model_copy(update={"timeout_s": 0.5}))
    assert r.timed_out and r.wall_s < 5
    marker = f"best-effort-{os.getpid()}-{time.time_ns()}"
    esc = sb.run_python("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                      f"        os.execv('/bin/sh', ['sh', '-c', 'sleep 30; : {marker}'])\n"
                      "    os._exit(0)\nprint('main done')")
    assert esc.stdout == "main done\n"
    if os.geteuid() == 0:  # root: a new network namespace and (where writable) a pids cgroup
        r = sb.run_python("import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), 1)\n"
                          "except OSError as e:\n    print(e.errno)")
        assert r.stdout == f"{errno.ENETUNREACH}\n"
        if cgroup_base() is not None:
            assert esc.leftover_processes  # the setsid escapee was found and killed
            assert not any(marker.encode() in _cmdline(p) for p in os.listdir("/proc") if p.isdigit())


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_venv_under_a_shadowed_path_still_runs(tmp_path):
    """A venv in /tmp or inside a checkout at /work/... is hidden by the sandbox's own mounts;
    it is bound elsewhere and the interpreter path translated."""
    import subprocess
    import sys

    from nemogym.sandboxes import _bwrap

    venv = tmp_path / "venv"
    subprocess.run([_bwrap.resolve_python(sys.executable), "-m", "venv", "--without-pip", str(venv)],
                   check=True, timeout=120)
    sb = LocalSandbox(python=str(venv / "bin" / "python"), limits=FAST)
    r = sb.run_python("import sys, os\nprint(sys.prefix != sys.base_prefix, os.listdir('.'))")
    assert r.stdout == "True ['main.py']\n", r.stderr
    with WarmPool(1, python=str(venv / "bin" / "python"), limits=FAST) as p:
        assert p.run_python("import sys\nprint(sys.prefix != sys.base_prefix)").stdout == "True\n"


def test_isolation_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="nemogym.sandboxes"):
        LocalSandbox()
    assert "isolation=bubblewrap" in caplog.text
    d = LocalSandbox().describe()
    assert d["isolation"] == "bubblewrap" and d["seccomp"] and "net" in d["namespaces"]
    best = LocalSandbox(bwrap="/nonexistent/bwrap", allow_unsandboxed=True).describe()
    assert best["isolation"] == "best-effort" and best["bwrap"] is None and not best["seccomp"]


def test_default_sandbox_is_the_isolated_pool():
    sb = default_sandbox(size=1)
    try:
        assert isinstance(sb, WarmPool) and sb.isolation == "bubblewrap"
        assert sb.run_python("print(6 * 7)").stdout == "42\n"
    finally:
        sb.close()
    assert isinstance(default_sandbox(warm=False), LocalSandbox)


def test_pool_jobs_do_not_share_state():
    with WarmPool(1, limits=FAST) as p:
        r1 = p.run_python("import json, os\njson.leak = 1\nos.environ['LEAK'] = '1'\n"
                          "open('/dev/shm/s', 'w').write('1')")
        assert r1.ok, r1.stderr
        r2 = p.run_python("import json, os\nprint(hasattr(json, 'leak'), 'LEAK' in os.environ, "
                          "os.listdir('/dev/shm'), __name__)")
        assert r2.stdout == "False False [] __main__\n"
        assert p.stats()["started"] == 1


def test_pool_job_cannot_spoil_the_next_one():
    with WarmPool(1, limits=FAST) as p:
        r = p.run_python("import os\nos.makedirs('/tmp/d/e')\nos.chmod('/tmp/d', 0)\n"
                         "os.chmod('/work', 0)")
        assert r.ok, r.stderr
        r = p.run_python("import os\nprint(os.listdir('.'), os.listdir('/tmp'))", files={"f": "x"})
        assert r.stdout in ("['f', 'main.py'] []\n", "['main.py', 'f'] []\n"), r
        shm = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
               "print(libc.shmget(0, 4096, 0o1600) >= 0)")
        before = p.stats()["recycled"]
        assert p.run_python(shm).stdout == "True\n"
        assert p.stats()["recycled"] == before + 1  # a SysV segment outlives the job: new worker
        r = p.run_python("print(len(open('/proc/sysvipc/shm').read().splitlines()))")
        assert r.stdout == "1\n"


def test_pool_recycles_workers():
    with WarmPool(1, limits=FAST, max_jobs_per_worker=3) as p:
        for _ in range(4):
            assert p.run_python("print(1)").ok
        assert p.stats()["recycled"] == 1
        r = p.run_python("while True: pass", limits=FAST.model_copy(update={"timeout_s": 0.5}))
        assert r.timed_out and r.killed_reason == "timeout"
        assert p.stats()["recycled"] == 2
        assert p.run_python("print('fresh')").stdout == "fresh\n"
        assert p.stats()["started"] == 3
        p.close()  # a closed pool starts again on the next job, with fresh workers
        assert p.run_python("print('again')").stdout == "again\n"
        assert p.stats() == {"started": 1, "recycled": 0, "jobs": 1, "alive": 1}


def test_worker_killed_by_the_host_is_a_sandbox_error_then_replaced():
    with WarmPool(1, limits=FAST) as p:
        assert p.run_python("pass").ok
        (worker,) = list(p._workers)
        threading.Timer(0.3, lambda: os.kill(worker.proc.pid, signal.SIGKILL)).start()
        with pytest.raises(SandboxError, match="worker"):
            p.run_python("import time\ntime.sleep(3)")
        assert p.run_python("print('replaced')").stdout == "replaced\n"
        assert p.stats()["started"] == 2


def test_local_sandbox_killed_by_the_host_is_a_sandbox_error(local):
    marker = f"marker-{time.time_ns()}"

    def kill_it() -> None:
        for pid in os.listdir("/proc"):
            if pid.isdigit() and marker.encode() in _cmdline(pid) and b"bwrap" in _cmdline(pid):
                os.kill(int(pid), signal.SIGKILL)

    threading.Timer(0.5, kill_it).start()
    with pytest.raises(SandboxError, match="killed from outside"):
        local.run_python("import time\ntime.sleep(3)", files={marker: ""})
    assert local.run_python("print('fine')").stdout == "fine\n"


def test_pool_survives_short_lived_event_loops_and_threads():
    p = WarmPool(1, limits=FAST)
    try:
        for i in range(3):  # each asyncio.run() and its executor threads end; workers must not
            assert asyncio.run(p.arun_python(f"print({i})")).stdout == f"{i}\n"
        t = threading.Thread(target=lambda: p.run_python("pass"))
        t.start()
        t.join()
        time.sleep(0.2)
        assert p.run_python("print('ok')").stdout == "ok\n"
    finally:
        p.close()


async def test_many_concurrent_async_callers_do_not_block_the_loop(pool):
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    results = await asyncio.gather(*(pool.arun_python(f"print({i} * {i})") for i in range(60)),
                                   pool.arun(["sh", "-c", "echo sh"]))
    stop.set()
    await tick
    assert [r.stdout for r in results[:-1]] == [f"{i * i}\n" for i in range(60)]
    assert results[-1].stdout == "sh\n"
    assert max(gaps) < 0.5, f"event loop stalled for {max(gaps):.3f}s"


async def test_local_async_twins(local):
    rs = await asyncio.gather(*(local.arun_python(f"print({i})") for i in range(4)))
    assert [r.stdout for r in rs] == [f"{i}\n" for i in range(4)]


def _run_in_fresh_process(blob: bytes) -> str:
    sb = pickle.loads(blob)
    try:
        return sb.run_python("print('from child')").stdout
    finally:
        sb.close()


def test_pickled_into_another_process_starts_lazily(pool):
    blob = pickle.dumps(pool)  # a started pool pickles as its config only
    assert len(blob) < 4000
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as mp:
        assert mp.apply(_run_in_fresh_process, (blob,)) == "from child\n"
        assert mp.apply(_run_in_fresh_process, (pickle.dumps(LocalSandbox()),)) == "from child\n"
    assert pool.run_python("print('parent still works')").ok


async def test_close_with_queued_async_jobs_raises_sandbox_error_not_cancelled():
    """Jobs still queued when the pool closes fail with SandboxError (an infra failure, masked);
    a CancelledError would read as the caller's own task being cancelled and escape env.step."""
    p = WarmPool(1, limits=FAST)
    try:
        await p.arun_python("pass")  # started: one job runs, three wait in the pool's executor
        jobs = [asyncio.create_task(p.arun_python("import time\ntime.sleep(0.5)")) for _ in range(4)]
        await asyncio.sleep(0.2)
        await asyncio.get_running_loop().run_in_executor(None, p.close)
        done = await asyncio.wait_for(asyncio.gather(*jobs, return_exceptions=True), 20)
        assert not any(isinstance(r, asyncio.CancelledError) for r in done), done
        assert all(isinstance(r, SandboxError | ExecResult) for r in done), done
        assert any(isinstance(r, SandboxError) for r in done)
        outer = asyncio.create_task(p.arun_python("import time\ntime.sleep(0.5)"))
        await asyncio.sleep(0.2)
        outer.cancel()  # the caller's own cancellation still propagates as such
        with pytest.raises(asyncio.CancelledError):
            await outer
        await asyncio.sleep(0.6)  # let the abandoned job end before close() (no stray error)
    finally:
        p.close()


def _bwrap_children() -> set[str]:
    me, found = str(os.getpid()), set()
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
        except OSError:
            continue
        if "\nPPid:\t" + me + "\n" in status and status.startswith("Name:\tbwrap"):
            found.add(pid)
    return found


def test_close_racing_running_jobs_neither_raises_nor_leaks_workers():
    """Jobs in flight when close() runs may start the pool again; close() must not trip over
    the new spawner thread, and a later close() must find (and kill) every worker."""
    before = _bwrap_children()  # other pools' workers (module fixtures)
    p = WarmPool(2, limits=FAST)
    errors: list[BaseException] = []

    stop = time.monotonic() + 1.5

    def jobs():
        while time.monotonic() < stop:  # jobs keep arriving while close() runs
            try:
                p.run_python("pass")
            except SandboxError:
                pass
            except BaseException as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

    threads = [threading.Thread(target=jobs) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        while time.monotonic() < stop:
            time.sleep(0.05)
            try:
                p.close()
            except BaseException as e:  # noqa: BLE001 - e.g. "cannot join thread before it is started"
                errors.append(e)
        for t in threads:
            t.join(30)
        assert not errors, errors
    finally:
        p.close()
    deadline = time.monotonic() + 5
    while _bwrap_children() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _bwrap_children() - before


def test_extreme_limits_are_refused_or_honoured_never_a_stray_error(sb):
    """An infinite or absurd timeout is a ValidationError (a ValueError) when the Limits are
    made, not an OverflowError from deep inside a run; a process cap above the kernel's pid
    limit means no cap, not a masked SandboxError from the pool's cgroup."""
    for bad in (float("inf"), 1e12):
        with pytest.raises(ValueError):
            Limits(timeout_s=bad)
    r = sb.run_python("print('ok')", limits=FAST.model_copy(update={"timeout_s": 1e6}))
    assert r.stdout == "ok\n"
    r = sb.run_python("print('ok')", limits=FAST.model_copy(update={"max_processes": 10**9}))
    assert r.stdout == "ok\n"


def test_pool_works_in_a_child_forked_while_another_thread_held_its_lock():
    """A fork copies the pool's lock as it is: if a job thread held it (releasing a worker,
    counting stats) at that instant, the child's first job waited on it forever."""
    p = WarmPool(1, limits=FAST)
    try:
        assert p.run_python("pass").ok
        held, release = threading.Event(), threading.Event()

        def holder():
            with p._lock:
                held.set()
                release.wait(10)

        threading.Thread(target=holder).start()
        held.wait(5)
        pid = os.fork()
        if pid == 0:  # the child: exit 0 only if its job ran; 3 if it hung
            threading.Timer(8, lambda: os._exit(3)).start()
            try:
                ok = p.run_python("print('child')").stdout == "child\n"
                p.close()
            except BaseException:  # noqa: BLE001 - any failure is a non-zero exit
                ok = False
            os._exit(0 if ok else 1)
        release.set()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert p.run_python("print('parent')").stdout == "parent\n"
    finally:
        p.close()
