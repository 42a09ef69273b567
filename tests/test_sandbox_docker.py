"""DockerSandbox: option mapping, file/stdin transport and error paths everywhere; engine runs
only where a Docker engine answers (skipped elsewhere with the reason)."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import tarfile

import pytest
from nemogym.sandboxes import DockerSandbox, Limits, SandboxError, docker_available
from nemogym.sandboxes.docker import BOOTSTRAP, container_options, files_tar, stdin_payload

ENGINE, WHY_NOT = docker_available()
needs_engine = pytest.mark.skipif(not ENGINE, reason=f"no Docker engine: {WHY_NOT}")


def test_container_options_enforce_limits():
    lim = Limits(timeout_s=3, memory_mb=300, max_processes=20, max_file_bytes=1 << 20,
                 max_open_files=40)
    o = container_options(lim, image="img:1", command=["python3", "x"], user="65534:65534",
                          cpus=0.5, tmpfs_mb=64)
    assert o["image"] == "img:1" and o["command"] == ["python3", "x"]
    assert o["network_disabled"] is True and o["network_mode"] == "none"
    assert o["read_only"] is True and o["user"] == "65534:65534"
    assert o["mem_limit"] == o["memswap_limit"] == "300m"
    assert o["nano_cpus"] == 500_000_000 and o["pids_limit"] == 20
    assert o["cap_drop"] == ["ALL"] and "no-new-privileges" in o["security_opt"]
    assert o["tmpfs"]["/work"].startswith("rw,") and "size=64m" in o["tmpfs"]["/work"]
    limits = {u["name"]: (u["soft"], u["hard"]) for u in o["ulimits"]}
    assert limits == {"fsize": (1 << 20, 1 << 20), "nofile": (40, 40), "core": (0, 0)}
    assert o["working_dir"] == "/work"


def test_options_are_what_the_docker_sdk_sends_to_the_engine():
    """The SDK's own translation (no engine needed) turns them into the expected HostConfig."""
    from docker.models.containers import _create_container_args

    lim = Limits(memory_mb=128, max_processes=10)
    o = container_options(lim, image="img", command=["x"], user="65534:65534", cpus=2, tmpfs_mb=32)
    args = _create_container_args({**o, "version": "1.45"})
    hc = args["host_config"]
    assert args["network_disabled"] is True and args["user"] == "65534:65534"
    assert hc["NetworkMode"] == "none" and hc["ReadonlyRootfs"] is True
    assert hc["Memory"] == hc["MemorySwap"] == 128 << 20
    assert hc["PidsLimit"] == 10 and hc["NanoCpus"] == 2_000_000_000
    assert hc["CapDrop"] == ["ALL"] and hc["SecurityOpt"] == ["no-new-privileges"]
    assert set(hc["Tmpfs"]) == {"/work", "/tmp"}


def test_files_tar_roundtrip():
    data = files_tar({"a/b.txt": b"hello", "c.bin": b"\x00\xff"})
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    assert got == {"a/b.txt": b"hello", "c.bin": b"\x00\xff"}


def test_bootstrap_unpacks_files_then_passes_the_rest_of_stdin(tmp_path):
    """The container's first step, run here as a plain process: files land, stdin is intact."""
    payload = stdin_payload({"pkg/m.py": b"X = 41\n"}, b"line one\nline two\n")
    prog = "import sys; sys.path.insert(0, '.'); from pkg.m import X; print(X + 1, sys.stdin.read())"
    out = subprocess.run([sys.executable, "-c", BOOTSTRAP, str(tmp_path), sys.executable, "-c", prog],
                         input=payload, capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"42 line one\nline two\n\n"


def test_no_engine_is_one_clear_line():
    with pytest.raises(SandboxError) as e:
        DockerSandbox(base_url="unix:///nonexistent/docker.sock")
    msg = str(e.value)
    assert "no Docker engine answers" in msg and "\n" not in msg
    ok, why = docker_available("unix:///nonexistent/docker.sock")
    assert not ok and "no Docker engine" in why


def test_lazy_client_and_pickling():
    sb = DockerSandbox(image="python:3.12-slim", base_url="unix:///nonexistent/docker.sock",
                       connect=False)
    assert sb.isolation == "docker"
    clone = pickle.loads(pickle.dumps(sb))
    assert clone.image == "python:3.12-slim" and clone._client is None
    with pytest.raises(SandboxError, match="no Docker engine"):
        clone.run_python("print(1)")
    with pytest.raises(ValueError):
        clone.run([])
    with pytest.raises(ValueError):
        clone.run_python("x", files={"../up": "x"})


def test_missing_sdk_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "docker", None)  # makes `import docker` raise ImportError
    with pytest.raises(SandboxError, match=r"pip install 'nemogym\[docker\]'"):
        DockerSandbox()


@pytest.fixture(scope="module")
def engine_sb():
    return DockerSandbox(limits=Limits(timeout_s=20, memory_mb=256, max_processes=32))


@needs_engine
def test_engine_runs_python_with_files_and_stdin(engine_sb):
    r = engine_sb.run_python("import sys; print(open('d.txt').read(), sys.stdin.read())",
                             files={"d.txt": "data"}, stdin="in")
    assert r.ok and r.stdout == "data in\n" and r.isolation == "docker"


@needs_engine
def test_engine_has_no_network_and_read_only_root(engine_sb):
    r = engine_sb.run_python(
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 443), 2); print('NET')\n"
        "except OSError:\n    print('nonet')\ntry:\n    open('/x', 'w'); print('RW')\n"
        "except OSError:\n    print('ro')")
    assert r.stdout == "nonet\nro\n"


@needs_engine
def test_engine_timeout(engine_sb):
    r = engine_sb.run_python("while True: pass", limits=Limits(timeout_s=2))
    assert r.timed_out
