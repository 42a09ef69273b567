"""``DockerSandbox``: the ``Sandbox`` interface over a Docker engine (``docker`` SDK, lazily imported).

One container per run: image configurable, no network, memory/CPU/pids limits, read-only root,
a tmpfs scratch at ``/work`` (the caller's files arrive as a tar at the head of stdin, unpacked
by ``BOOTSTRAP``, so the image needs a ``python3``), all
capabilities dropped, ``no-new-privileges``, uid 65534. When no engine answers, construction
(or the first run) raises ``SandboxError`` with one line saying so.
"""

from __future__ import annotations

import io
import logging
import tarfile
import time
from typing import Any

from ._scratch import MAIN_FILE, check_files, python_files
from .base import ExecResult, Isolation, Limits, Sandbox, SandboxError

log = logging.getLogger("nemogym.sandboxes")

WORKDIR = "/work"


def _import_docker() -> Any:
    try:
        import docker  # noqa: PLC0415
    except ImportError as e:
        raise SandboxError("DockerSandbox needs the docker SDK: pip install 'nemogym[docker]'") from e
    return docker


def docker_available(base_url: str | None = None, timeout_s: float = 3.0) -> tuple[bool, str]:
    """(True, "") when a Docker engine answers a ping, else (False, the one-line reason)."""
    try:
        client = _connect(base_url, timeout_s)
        client.close()
        return True, ""
    except SandboxError as e:
        return False, str(e)


def _connect(base_url: str | None, timeout_s: float) -> Any:
    docker = _import_docker()
    try:
        client = docker.DockerClient(base_url=base_url, timeout=int(timeout_s)) if base_url \
            else docker.from_env(timeout=int(timeout_s))
        client.ping()
        return client
    except Exception as e:  # noqa: BLE001 - DockerException, requests ConnectionError, ...
        where = base_url or "the default socket (DOCKER_HOST or /var/run/docker.sock)"
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise SandboxError(f"no Docker engine answers at {where}: {first}") from e


def container_options(limits: Limits, *, image: str, command: list[str], user: str,
                      cpus: float, tmpfs_mb: int) -> dict[str, Any]:
    """The ``containers.create`` keyword arguments that enforce ``limits`` (no engine needed)."""
    mem = f"{limits.memory_mb}m"
    return {
        "image": image, "command": command, "user": user, "working_dir": WORKDIR,
        "network_disabled": True, "network_mode": "none", "read_only": True,
        "mem_limit": mem, "memswap_limit": mem, "nano_cpus": int(cpus * 1e9),
        "pids_limit": limits.max_processes, "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"], "ipc_mode": "none",
        "tmpfs": {WORKDIR: f"rw,exec,nosuid,size={tmpfs_mb}m,mode=1777",
                  "/tmp": f"rw,nosuid,size={tmpfs_mb}m,mode=1777"},
        "ulimits": [{"name": "fsize", "soft": limits.max_file_bytes, "hard": limits.max_file_bytes},
                    {"name": "nofile", "soft": limits.max_open_files, "hard": limits.max_open_files},
                    {"name": "core", "soft": 0, "hard": 0}],
        "environment": {"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"},
        "stdin_open": True, "detach": True, "auto_remove": False,
    }


# Runs first in the container: unpack the tar that heads stdin into the scratch dir, then exec the
# program with the rest of stdin (read unbuffered, so no byte of the program's input is lost).
BOOTSTRAP = (
    "import io,os,sys,tarfile\n"
    "def rd(n):\n"
    "    b=b''\n"
    "    while len(b)<n:\n"
    "        c=os.read(0,n-len(b))\n"
    "        if not c: break\n"
    "        b+=c\n"
    "    return b\n"
    "n=int(rd(16))\n"
    "tarfile.open(fileobj=io.BytesIO(rd(n))).extractall(sys.argv[1])\n"
    "os.chdir(sys.argv[1])\n"
    "os.execvp(sys.argv[2],sys.argv[2:])\n")


def stdin_payload(files: dict[str, bytes], stdin: bytes) -> bytes:
    """What the container reads on stdin: a 16-byte size, the files' tar, then the program's stdin."""
    tar = files_tar(files)
    return b"%16d" % len(tar) + tar + stdin


def files_tar(files: dict[str, bytes]) -> bytes:
    """A tar of ``files`` (readable by any uid) to unpack into ``/work``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o666, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class DockerSandbox(Sandbox):
    """Run each program in a fresh, locked-down container (see the module docstring)."""

    isolation: Isolation = "docker"

    def __init__(self, image: str = "python:3.11-slim", *, limits: Limits | None = None,
                 python: str = "python3", base_url: str | None = None, cpus: float = 1.0,
                 user: str = "65534:65534", tmpfs_mb: int = 256, connect: bool = True):
        self.image, self.python, self.base_url = image, python, base_url
        self.limits = limits or Limits()
        self.cpus, self.user, self.tmpfs_mb = cpus, user, tmpfs_mb
        self._client: Any = None
        if connect:
            self._client = _connect(base_url, 5.0)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_client"} | {"_client": None}

    def _docker(self) -> Any:
        if self._client is None:
            self._client = _connect(self.base_url, 5.0)
        return self._client

    def run(self, argv: list[str], *, files: dict[str, str | bytes] | None = None,
            stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        if not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError("argv must be a non-empty list of strings")
        return self._run(list(argv), check_files(files), stdin, limits or self.limits)

    def run_python(self, code: str, *, files: dict[str, str | bytes] | None = None,
                   stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        checked = python_files(code, files)
        return self._run([self.python, "-E", "-s", MAIN_FILE], checked, stdin, limits or self.limits)

    def _run(self, argv: list[str], files: dict[str, bytes], stdin: str | bytes | None,
             limits: Limits) -> ExecResult:
        client = self._docker()
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        command = [self.python, "-c", BOOTSTRAP, WORKDIR, *argv]
        opts = container_options(limits, image=self.image, command=command, user=self.user,
                                 cpus=self.cpus, tmpfs_mb=self.tmpfs_mb)
        t0 = time.monotonic()
        try:
            container = client.containers.create(**opts)
        except Exception as e:  # noqa: BLE001
            raise SandboxError(f"docker could not create the container: {e}") from e
        timed_out = False
        try:
            sock = container.attach_socket(params={"stdin": 1, "stream": 1})
            container.start()
            raw = getattr(sock, "_sock", sock)
            raw.sendall(stdin_payload(files, data))
            raw.shutdown(1)
            try:
                status = container.wait(timeout=limits.timeout_s)
                code = int(status.get("StatusCode", 1))
            except Exception:  # noqa: BLE001 - read timeout: the program ran too long
                timed_out, code = True, None
                container.kill()
            out = container.logs(stdout=True, stderr=False)
            err = container.logs(stdout=False, stderr=True)
            oom = False
            if not timed_out:
                container.reload()
                oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        except SandboxError:
            raise
        except Exception as e:  # noqa: BLE001
            raise SandboxError(f"docker run failed: {e}") from e
        finally:
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001
                pass
        cap = limits.max_output_bytes
        truncated = len(out) + len(err) > cap
        out = out[:cap]
        err = err[: max(0, cap - len(out))]
        sig = code - 128 if code is not None and 128 < code <= 192 else None
        return ExecResult(stdout=out.decode(errors="replace"), stderr=err.decode(errors="replace"),
                          exit_code=None if sig else code, signal=sig, timed_out=timed_out,
                          memory_exceeded=oom, output_truncated=truncated,
                          wall_s=time.monotonic() - t0, isolation="docker",
                          killed_reason="timeout" if timed_out else "memory" if oom else None)
