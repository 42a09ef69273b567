"""``LocalSandbox``: one fresh bubblewrap sandbox per run, no daemon needed.

Every run gets a new scratch dir (a size-capped tmpfs at ``/work``, the cwd, holding the caller's
files; nothing is written on the host's disk), rlimits (address
space, CPU, file size, open files, core), a pids cgroup where one is writable (the process bound
that works for root), new namespaces (no network, private pids: the whole tree dies with the run,
``setsid`` escapees included), uid 65534 with no capabilities and a seccomp deny-list. Without
bwrap it refuses to run unless ``allow_unsandboxed=True`` (then: best-effort rlimits, a new
session, a new net namespace when root, the pids cgroup; reported as ``"best-effort"``).
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from . import _bwrap, _limits, _seccomp
from ._capture import Captured, run_captured
from ._cgroup import cgroup_base, make_cgroup
from ._scratch import MAIN_FILE, check_files, make_scratch, python_files, remove_scratch
from .base import ExecResult, Isolation, Limits, Sandbox, SandboxError

log = logging.getLogger("nemogym.sandboxes")

_CGROUP_SLACK = 4  # bwrap's own processes (outer, pid 1) and the /bin/sh that joins the cgroup


def missing_bwrap_message() -> str:
    return ("bubblewrap (bwrap) is not available or does not work here, so untrusted code would run "
            "without isolation: install it (Debian/Ubuntu: apt-get install bubblewrap) or pass "
            "allow_unsandboxed=True to accept best-effort limits only")


class LocalSandbox(Sandbox):
    """Run programs in a fresh bubblewrap sandbox each time (see the module docstring)."""

    def __init__(self, *, limits: Limits | None = None, python: str | None = None,
                 python_flags: tuple[str, ...] = ("-E", "-s"), allow_unsandboxed: bool = False,
                 bwrap: str | None = None, extra_ro_paths: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, scratch_base: str | None = None,
                 tmp_mb: int = 256):
        self.limits = limits or Limits()
        self.python_arg = python
        self.python_flags = tuple(python_flags)
        self.allow_unsandboxed = allow_unsandboxed
        self.bwrap = bwrap
        self.extra_ro_paths = tuple(os.path.abspath(p) for p in extra_ro_paths)
        self.env = dict(env or {})
        self.scratch_base = scratch_base
        self.tmp_mb = tmp_mb
        self._setup()

    def _setup(self) -> None:
        self.python = _bwrap.resolve_python(self.python_arg)  # re-resolved on each machine
        self._features = _bwrap.probe(self.bwrap)
        self._prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
        if self._features is not None:
            self.isolation: Isolation = "bubblewrap"
            self._ro = _bwrap.plan_ro_binds(_bwrap.python_prefixes(self.python) + self.extra_ro_paths)
            self._python_inside = _bwrap.inside_path(self.python, self._ro)
            log.info("LocalSandbox: isolation=bubblewrap %s", self.describe())
        elif self.allow_unsandboxed:
            self.isolation = "best-effort"
            log.warning("LocalSandbox: bubblewrap unavailable; isolation=best-effort "
                        "(rlimits, new session%s, pids cgroup if writable) - NOT a security boundary",
                        ", no network" if os.geteuid() == 0 else "")
        else:
            raise SandboxError(missing_bwrap_message())

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for k in ("_features", "_prlimit", "_ro", "_python_inside", "isolation", "python"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup()

    def describe(self) -> dict[str, Any]:
        """The layers in force here (for logs and reports)."""
        return describe_layers(self.isolation, self._features if self.isolation == "bubblewrap"
                               else None, self.python, bool(self._prlimit))

    # -- the Sandbox interface -------------------------------------------------------------
    def run(self, argv: list[str], *, files: dict[str, str | bytes] | None = None,
            stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        """Run ``argv`` (its first element resolved inside the sandbox) in a fresh scratch dir."""
        if not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError("argv must be a non-empty list of strings")
        checked = check_files(files)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        return self._run(list(argv), checked, data, limits or self.limits)

    def run_python(self, code: str, *, files: dict[str, str | bytes] | None = None,
                   stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        """Run ``code`` as ``/work/main.py`` with the configured interpreter."""
        checked = python_files(code, files)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        python = self._python_inside if self.isolation == "bubblewrap" else self.python
        return self._run([python, *self.python_flags, MAIN_FILE], checked, data,
                         limits or self.limits)

    # -- internals -----------------------------------------------------------------------
    def _run(self, argv: list[str], files: dict[str, bytes], stdin: bytes | None,
             limits: Limits) -> ExecResult:
        cgroup = make_cgroup(limits.max_processes + _CGROUP_SLACK)
        left = 0
        try:
            if self.isolation == "bubblewrap":
                cap = self._run_bwrap(argv, files, stdin, limits, cgroup)
            else:
                scratch = make_scratch(files, self.scratch_base)
                try:
                    cap = self._run_best_effort(argv, scratch, stdin, limits, cgroup)
                finally:
                    remove_scratch(scratch)
        finally:
            if cgroup is not None:
                left = cgroup.kill_all()
                cgroup.remove()
        res = to_result(cap, self.isolation, bwrap_codes=self.isolation == "bubblewrap")
        res.leftover_processes = cap.leftovers or left > 0
        log.debug("sandbox run: isolation=%s exit=%s signal=%s timed_out=%s wall=%.3fs",
                  res.isolation, res.exit_code, res.signal, res.timed_out, res.wall_s)
        return res

    def _run_bwrap(self, argv, files, stdin, limits, cgroup) -> Captured:  # noqa: ANN001
        nproc = _limits.nproc_limit(limits)
        inner = (_limits.prlimit_argv(self._prlimit, limits, nproc) if self._prlimit else []) + argv
        fds: list[int] = []
        try:
            file_fds = []
            for name, data in files.items():
                fd = os.memfd_create("file")
                fds.append(fd)
                os.write(fd, data) if data else None
                os.lseek(fd, 0, os.SEEK_SET)
                file_fds.append((fd, name))
            sec_fd = _seccomp.filter_fd() if self._features.seccomp else None
            if sec_fd is not None:
                fds.append(sec_fd)
            info_r, info_w = os.pipe()
            fds += [info_r, info_w]
            full = _bwrap.build_argv(self._features, inner, scratch=None, ro_binds=self._ro,
                                     seccomp_fd=sec_fd, tmp_bytes=self.tmp_mb << 20, env=self.env,
                                     file_fds=file_fds)
            full[1:1] = ["--info-fd", str(info_w)]
            preexec = None if self._prlimit else (lambda: _limits.apply_rlimits(limits, nproc))
            pass_fds = tuple(fd for fd in fds if fd != info_r)
            try:
                cap = run_captured(full, env=_bwrap.MINIMAL_ENV, stdin=stdin,
                                   timeout_s=limits.timeout_s, max_output=limits.max_output_bytes,
                                   pass_fds=pass_fds, cgroup=cgroup, preexec_fn=preexec)
            except OSError as e:
                raise SandboxError(f"could not start bubblewrap: {e}") from e
            os.set_blocking(info_r, False)
            try:
                info = os.read(info_r, 65536)
            except BlockingIOError:
                info = b""
        finally:
            for fd in fds:
                os.close(fd)
        if b"child-pid" not in info and not cap.timed_out:
            raise SandboxError("bubblewrap failed to start the program: "
                               + cap.stderr.decode(errors="replace").strip()[-500:])
        if cap.returncode < 0 and cap.killed_reason is None:
            # bwrap reports the program's own death by a signal as 128+N; a negative status
            # means bwrap itself was killed, by someone else than us: not the program's fault
            raise SandboxError(f"the sandbox was killed from outside (signal {-cap.returncode})")
        return cap

    def _run_best_effort(self, argv, scratch, stdin, limits, cgroup) -> Captured:  # noqa: ANN001
        nproc = _limits.nproc_limit(limits)
        is_root = os.geteuid() == 0

        def preexec() -> None:
            _limits.apply_rlimits(limits, nproc)
            if is_root:
                _limits.unshare_net()

        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8",
               "TMPDIR": scratch, "PYTHONDONTWRITEBYTECODE": "1", **self.env}
        try:
            return run_captured(argv, env=env, stdin=stdin, timeout_s=limits.timeout_s,
                                max_output=limits.max_output_bytes, cwd=scratch, cgroup=cgroup,
                                preexec_fn=preexec)
        except OSError as e:
            raise SandboxError(f"could not start the program: {e}") from e


def describe_layers(isolation: Isolation, features: _bwrap.BwrapFeatures | None, python: str,
                    prlimit: bool = True) -> dict[str, Any]:
    """A dict of which isolation layers are in force (shared by LocalSandbox and WarmPool)."""
    root = os.geteuid() == 0
    return {"isolation": isolation, "bwrap": features.path if features else None,
            "namespaces": "user,pid,net,ipc,uts,cgroup" if features else
            ("net" if root else "none"),
            "seccomp": bool(features and features.seccomp),
            "nested_userns_disabled": bool(features and features.disable_userns),
            "tmpfs_size_caps": bool(features and features.tmpfs_size),
            "pids_cgroup": cgroup_base(), "rlimits_via": "prlimit" if prlimit else "preexec",
            "nproc_rlimit": not root, "python": python}


def to_result(cap: Captured, isolation: Isolation, *, bwrap_codes: bool) -> ExecResult:
    """An ``ExecResult`` from a raw run; under bwrap an exit status 128+N means signal N."""
    rc = cap.returncode
    exit_code: int | None = rc
    sig: int | None = None
    if rc < 0:
        exit_code, sig = None, -rc
    elif bwrap_codes and 128 < rc <= 128 + 64:
        exit_code, sig = None, rc - 128
    mem = _limits.looks_like_memory_error(cap.stderr, exit_code)
    return ExecResult(stdout=cap.stdout.decode(errors="replace"),
                      stderr=cap.stderr.decode(errors="replace"), exit_code=exit_code, signal=sig,
                      timed_out=cap.timed_out, memory_exceeded=mem,
                      output_truncated=cap.truncated, wall_s=cap.wall_s, cpu_s=cap.cpu_s,
                      isolation=isolation, killed_reason=cap.killed_reason or ("memory" if mem else None))
