"""bubblewrap: find it, probe which of its features work here, and build its command line.

The sandbox sees read-only ``/usr`` (and the ``/bin``, ``/lib*`` links), the Python prefixes
(``sys.prefix`` and ``sys.base_prefix``, so a venv or pyenv interpreter works), a private
``/proc``, ``/dev`` and size-capped ``/tmp``, and one read-write scratch dir at ``/work``;
nothing else of the host. New user, pid, net, ipc, uts and cgroup namespaces; uid/gid 65534;
all capabilities dropped; no nested user namespaces; a seccomp deny-list (``_seccomp``).
bwrap itself is started with ``MINIMAL_ENV`` because its pid 1 environ is readable from inside.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass

from . import _seccomp

log = logging.getLogger("nemogym.sandboxes")

MINIMAL_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
SANDBOX_UID = 65534
WORKDIR = "/work"
_INNER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
              "USER": "nobody", "LOGNAME": "nobody", "TMPDIR": "/tmp",
              "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")


@dataclass(frozen=True)
class BwrapFeatures:
    """Which optional bwrap flags this bwrap accepts here (found by probing)."""

    path: str
    disable_userns: bool
    tmpfs_size: bool
    seccomp: bool


def find_bwrap(path: str | None = None) -> str | None:
    """The bwrap executable (``path``, ``$NEMOGYM_BWRAP`` or PATH), or None."""
    cand = path or os.environ.get("NEMOGYM_BWRAP") or shutil.which("bwrap")
    if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
        return cand
    return None


@functools.lru_cache(maxsize=8)
def resolve_python(python: str | None = None) -> str:
    """A real interpreter binary (never a pyenv shim script: that costs ~90 ms per start)."""
    exe = python or sys.executable or shutil.which("python3") or "/usr/bin/python3"
    try:
        with open(exe, "rb") as f:
            is_script = f.read(2) == b"#!"
    except OSError as e:
        raise ValueError(f"python interpreter not found: {exe}: {e}") from e
    if is_script:
        out = subprocess.run([exe, "-c", "import sys; print(sys.executable)"], capture_output=True,
                             text=True, timeout=60, check=True)
        exe = out.stdout.strip()
    return exe


@functools.lru_cache(maxsize=8)
def python_prefixes(python: str) -> tuple[str, ...]:
    """Directories to bind read-only so ``python`` (venv, pyenv, conda) runs inside the sandbox."""
    if python == sys.executable:
        raw = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    else:
        code = "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]))"
        out = subprocess.run([python, "-E", "-c", code], capture_output=True, text=True, timeout=60,
                             check=True)
        raw = json.loads(out.stdout)
    raw.append(os.path.dirname(os.path.dirname(os.path.realpath(python))))
    paths: list[str] = []
    for p in raw:
        for q in (os.path.abspath(p), os.path.realpath(p)):
            if q in ("/", "/usr") or q.startswith("/usr/") or q in paths:
                continue
            if os.path.isdir(q):
                paths.append(q)
    return tuple(paths)


_SHADOWED = ("/work", "/tmp", "/dev", "/proc", "/opt/nemogym")
RELOCATED = "/opt/nemogym/ro"


def plan_ro_binds(paths: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(host path, path inside) for each read-only bind; a path the sandbox's own mounts would
    hide (e.g. a venv inside a checkout at /work/...) is bound at /opt/nemogym/roN instead."""
    binds = []
    for i, p in enumerate(dict.fromkeys(paths)):
        hidden = any(p == h or p.startswith(h + "/") for h in _SHADOWED)
        binds.append((p, f"{RELOCATED}{i}" if hidden else p))
    return tuple(binds)


def inside_path(path: str, binds: tuple[tuple[str, str], ...]) -> str:
    """Where host ``path`` (e.g. the interpreter) appears inside the sandbox."""
    for src, dst in binds:
        if src != dst and (path == src or path.startswith(src + "/")):
            return dst + path[len(src):]
    return path


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def build_argv(features: BwrapFeatures, cmd: list[str], *, scratch: str | None,
               ro_binds: tuple[tuple[str, str], ...] = (), seccomp_fd: int | None = None,
               as_pid_1: bool = False, tmp_bytes: int = 256 << 20,
               env: dict[str, str] | None = None,
               extra_mounts: tuple[str, ...] = (),
               file_fds: list[tuple[int, str]] | None = None) -> list[str]:
    """The full bwrap command line that runs ``cmd`` with the isolation described above."""
    argv = [features.path, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", "sandbox", "--clearenv"]
    if features.disable_userns:
        argv.append("--disable-userns")
    for k, v in {**_INNER_ENV, **(env or {})}.items():
        argv += ["--setenv", k, v]
    argv += _system_binds()
    for src, dst in ro_binds:
        argv += ["--ro-bind", src, dst]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    for where in ("/tmp", "/dev/shm"):  # size-capped: bwrap's own tmpfs for / and /dev is not
        if features.tmpfs_size:
            argv += ["--size", str(tmp_bytes)]
        argv += ["--tmpfs", where]
    if scratch is not None:
        argv += ["--bind", scratch, WORKDIR, "--chdir", WORKDIR]
    elif file_fds is not None:  # a fresh size-capped tmpfs at /work, the files copied in by bwrap
        if features.tmpfs_size:
            argv += ["--size", str(tmp_bytes)]
        argv += ["--tmpfs", WORKDIR]
        for fd, name in file_fds:
            argv += ["--file", str(fd), f"{WORKDIR}/{name}"]
        argv += ["--chdir", WORKDIR]
    else:
        argv += ["--chdir", "/tmp"]
    if extra_mounts:
        argv += list(extra_mounts)
    # bwrap's root and /dev tmpfs become read-only: only /tmp, /dev/shm and /work stay writable
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    if seccomp_fd is not None and features.seccomp:
        argv += ["--seccomp", str(seccomp_fd)]
    if as_pid_1:
        argv.append("--as-pid-1")
    return argv + ["--", *cmd]


_probe_lock = threading.Lock()
_probed: dict[str, BwrapFeatures | None] = {}


def probe(path: str | None = None) -> BwrapFeatures | None:
    """Check (once per bwrap path) that bwrap really runs here, and which optional flags work."""
    exe = find_bwrap(path)
    if exe is None:
        return None
    with _probe_lock:
        if exe in _probed:
            return _probed[exe]
        found = None
        for dis, size, sec in ((True, True, True), (False, True, True), (False, False, True),
                               (False, False, False)):
            feats = BwrapFeatures(exe, dis, size, sec and _seccomp.build_filter() is not None)
            fd = _seccomp.filter_fd() if feats.seccomp else None
            try:
                argv = build_argv(feats, ["/bin/sh", "-c", "exit 0"], scratch=None, seccomp_fd=fd,
                                  file_fds=[])
                r = subprocess.run(argv, env=MINIMAL_ENV, capture_output=True, timeout=30,
                                   pass_fds=(fd,) if fd is not None else ())
                if r.returncode == 0:
                    found = feats
                    break
                log.debug("bwrap probe %s failed: %s", feats, r.stderr.decode(errors="replace"))
            except (OSError, subprocess.SubprocessError) as e:
                log.debug("bwrap probe failed: %s", e)
            finally:
                if fd is not None:
                    os.close(fd)
        if found is None:
            log.warning("bubblewrap at %s does not work here (namespaces unavailable?)", exe)
        _probed[exe] = found
        return found
