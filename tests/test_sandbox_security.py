"""Real attacks in the real sandboxes (``LocalSandbox`` and ``WarmPool``), no mocks.

Each attack must be contained (the host sees no effect) and reported in the ``ExecResult``.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from nemogym.sandboxes import Limits, LocalSandbox, WarmPool

LIM = Limits(timeout_s=5, memory_mb=512, max_processes=32, max_output_bytes=1 << 20)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local() -> LocalSandbox:
    return LocalSandbox(limits=LIM)


@pytest.fixture(scope="module")
def pool():
    p = WarmPool(2, limits=LIM).start()
    yield p
    p.close()


@pytest.fixture(params=["local", "pool"])
def sb(request, local, pool):
    return local if request.param == "local" else pool


def host_processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(name))
            except OSError:
                pass
    return found


def test_no_loopback_network(sb):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(srv.accept())
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    code = ("import socket, sys\ns = socket.socket(); s.settimeout(2)\n"
            f"try:\n    s.connect(('127.0.0.1', {srv.getsockname()[1]})); print('CONNECTED')\n"
            "except OSError as e:\n    print('errno', e.errno)")
    r = sb.run_python(code, limits=LIM)
    t.join()
    srv.close()
    assert "CONNECTED" not in r.stdout and not accepted
    assert r.stdout.strip() in (f"errno {errno.ECONNREFUSED}", f"errno {errno.ENETUNREACH}")


def test_no_outside_network(sb):
    code = ("import socket\nfor host in ('151.101.0.223', '1.1.1.1'):\n"
            "    s = socket.socket(); s.settimeout(2)\n"
            "    try:\n        s.connect((host, 443)); print('CONNECTED')\n"
            "    except OSError as e:\n        print('errno', e.errno)\n"
            "try:\n    socket.getaddrinfo('pypi.org', 443); print('RESOLVED')\n"
            "except OSError as e:\n    print('dns failed')")
    r = sb.run_python(code, limits=LIM)
    assert r.stdout == f"errno {errno.ENETUNREACH}\nerrno {errno.ENETUNREACH}\ndns failed\n"


def test_cannot_read_host_secrets(sb):
    home = Path(os.path.expanduser("~"))
    with tempfile.NamedTemporaryFile("w", dir=home, prefix=".nemogym-secret-", delete=False) as f:
        f.write("TOP-SECRET-HOME")
    try:
        targets = ["/etc/shadow", "/etc/passwd", str(REPO / "setup.py"), str(Path(__file__)),
                   f.name, "/proc/1/root/etc/shadow"]
        targets += [str(p) for p in home.iterdir() if p.is_file()][:50]
        code = ("import json\nout = {}\nfor t in json.load(open('t.json')):\n"
                "    try:\n        out[t] = open(t).read()[:50]\n"
                "    except OSError as e:\n        pass\nprint(json.dumps(out))")
        r = sb.run_python(code, files={"t.json": json.dumps(targets)}, limits=LIM)
        assert r.ok, r.stderr
        assert json.loads(r.stdout) == {}
        listing = sb.run_python(f"import os\nprint(os.listdir({str(home)!r}))", limits=LIM)
        assert "nemogym-secret" not in listing.stdout
    finally:
        os.unlink(f.name)


def test_cannot_write_outside_scratch(sb):
    name = f"pwned-{uuid.uuid4().hex}"
    host_targets = [REPO / name, Path(os.path.expanduser("~")) / name, Path("/tmp") / name,
                    Path("/usr") / name, Path("/") / name, Path("/dev/shm") / name]
    code = ("import json\nfor t in json.load(open('t.json')):\n"
            "    try:\n        open(t, 'w').write('x')\n    except OSError:\n        pass\n"
            "open('inside.txt', 'w').write('ok')\nprint('done')")
    r = sb.run_python(code, files={"t.json": json.dumps([str(p) for p in host_targets])}, limits=LIM)
    assert r.stdout == "done\n", r.stderr
    assert [p for p in host_targets if p.exists()] == []


def test_fork_bomb_is_bounded(sb):
    marker = f"forkbomb-{uuid.uuid4().hex}"
    code = ("import os\nn = 0\ntry:\n    while n < 2000:\n        if os.fork() == 0:\n"
            f"            os.execv('/bin/sh', ['sh', '-c', 'sleep 30; : {marker}'])\n"
            "        n += 1\nexcept OSError as e:\n    print('fork failed after', n)\n")
    r = sb.run_python(code, limits=LIM)
    assert r.stdout.startswith("fork failed after"), (r.stdout, r.stderr)
    # a pids cgroup (root) bounds it exactly; RLIMIT_NPROC (non-root) counts the uid's other
    # processes too, so allow a small slack
    assert int(r.stdout.split()[-1]) <= LIM.max_processes + 8
    assert r.wall_s < LIM.timeout_s
    assert host_processes_with(marker) == []


def test_memory_bomb(sb):
    r = sb.run_python("chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))", limits=LIM)
    assert r.memory_exceeded and r.killed_reason == "memory" and r.exit_code == 1
    assert "MemoryError" in r.stderr


def test_cpu_spin_is_killed(sb):
    r = sb.run_python("while True:\n    pass", limits=LIM.model_copy(update={"timeout_s": 1}))
    assert r.timed_out and r.killed_reason == "timeout" and r.exit_code is None
    assert 0.9 < r.wall_s < 3


def test_sleep_past_the_limit(sb):
    r = sb.run_python("import time\nprint('start', flush=True)\ntime.sleep(60)",
                      limits=LIM.model_copy(update={"timeout_s": 1}))
    assert r.timed_out and r.stdout == "start\n" and r.wall_s < 3


def test_100mb_of_output(sb):
    r = sb.run_python("import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))",
                      limits=LIM)
    assert r.output_truncated and r.killed_reason == "output"
    assert len(r.stdout) + len(r.stderr) <= LIM.max_output_bytes
    assert r.wall_s < 3


def test_background_process_that_outlives_the_program(sb):
    marker = f"escapee-{uuid.uuid4().hex}"
    code = ("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        os.execv('/bin/sh', ['sh', '-c', 'sleep 30; : {marker}'])\n"
            "    os._exit(0)\nprint('main done')")
    r = sb.run_python(code, limits=LIM)
    assert r.stdout == "main done\n" and r.exit_code == 0
    assert r.wall_s < 2, "the sandbox waited for the escapee"
    assert host_processes_with(marker) == []
    if isinstance(sb, WarmPool):
        assert r.leftover_processes
    assert sb.run_python("print('next')", limits=LIM).stdout == "next\n"


def test_signals_to_the_parent(sb):
    code = ("import os, signal\nfor pid in (os.getppid(), 1, int(open('host_pid').read())):\n"
            "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError as e:\n"
            "        print('denied', e.errno)\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
            "print('still here')")
    r = sb.run_python(code, files={"host_pid": str(os.getpid())}, limits=LIM)
    assert r.stdout.endswith("still here\n") and r.exit_code == 0
    assert f"denied {errno.ESRCH}" in r.stdout  # the host's pids are not even visible
    assert sb.run_python("print('sandbox still works')", limits=LIM).ok


def test_ptrace_of_the_parent_is_denied(sb):
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "for pid in (os.getppid(), 1):\n"
            "    print(libc.ptrace(16, pid, 0, 0), ctypes.get_errno())\n"  # PTRACE_ATTACH
            "    try:\n        open(f'/proc/{pid}/mem', 'rb').read(1); print('mem read')\n"
            "    except OSError:\n        print('mem denied')")
    r = sb.run_python(code, limits=LIM)
    assert r.stdout.count(f"-1 {errno.EPERM}") == 2, r.stdout + r.stderr
    assert "mem read" not in r.stdout


@pytest.mark.parametrize("kind", ["local", "pool"])
def test_parent_environment_does_not_leak(kind, monkeypatch):
    secret = f"sk-{uuid.uuid4().hex}"
    monkeypatch.setenv("NEMOGYM_TEST_SECRET", secret)  # set BEFORE the sandbox starts
    sb = LocalSandbox(limits=LIM) if kind == "local" else WarmPool(1, limits=LIM)
    try:
        code = ("import os\nfor p in os.listdir('/proc'):\n    if p.isdigit() or p == 'self':\n"
                "        try:\n            print(open(f'/proc/{p}/environ', 'rb').read())\n"
                "        except OSError as e:\n            print(p, 'denied')\n"
                "print(dict(os.environ))")
        r = sb.run_python(code, limits=LIM)
        assert r.ok, r.stderr
        assert secret not in r.stdout and "NEMOGYM_TEST_SECRET" not in r.stdout
    finally:
        sb.close()


def test_no_capabilities_and_unprivileged_uid(sb):
    r = sb.run_python("print(open('/proc/self/status').read())", limits=LIM)
    status = dict(line.split(":\t", 1) for line in r.stdout.splitlines() if ":\t" in line)
    assert status["Uid"].split()[0] == "65534"
    assert all(int(status[k], 16) == 0 for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
    assert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2"
