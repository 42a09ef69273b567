"""Turn ``Limits`` into rlimits (prlimit arguments or a preexec setrlimit) and results into fields."""

from __future__ import annotations

import ctypes
import math
import os
import resource

from .base import Limits

_MEMORY_MARKERS = (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc",
                   b"out of memory", b"Out of memory")


def cpu_seconds(limits: Limits) -> tuple[int, int]:
    """Soft/hard RLIMIT_CPU: a backstop above the wall-clock timeout (SIGXCPU, then SIGKILL)."""
    soft = max(1, math.ceil(limits.timeout_s) + 1)
    return soft, soft + 1


def nproc_limit(limits: Limits) -> int | None:
    """RLIMIT_NPROC for the program, or None as root (the kernel exempts root; cgroups do it).

    NPROC counts every process of the uid on the machine, so the bound is what this uid already
    runs plus ``max_processes``.
    """
    uid = os.getuid()
    if uid == 0:
        return None
    mine = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                mine += os.stat(f"/proc/{name}").st_uid == uid
            except OSError:
                pass
    return mine + limits.max_processes


def rlimit_table(limits: Limits, nproc: int | None = None) -> dict[int, tuple[int, int]]:
    """The resource -> (soft, hard) table applied to every sandboxed program."""
    mem = limits.memory_mb << 20
    table = {resource.RLIMIT_AS: (mem, mem), resource.RLIMIT_CPU: cpu_seconds(limits),
             resource.RLIMIT_FSIZE: (limits.max_file_bytes, limits.max_file_bytes),
             resource.RLIMIT_NOFILE: (limits.max_open_files, limits.max_open_files),
             resource.RLIMIT_CORE: (0, 0)}
    if nproc is not None:
        table[resource.RLIMIT_NPROC] = (nproc, nproc)
    return table


def prlimit_argv(prlimit: str, limits: Limits, nproc: int | None = None) -> list[str]:
    """``prlimit --as=... --`` prefix for a command run inside the sandbox."""
    cpu_soft, cpu_hard = cpu_seconds(limits)
    mem = limits.memory_mb << 20
    argv = [prlimit, f"--as={mem}", f"--cpu={cpu_soft}:{cpu_hard}",
            f"--fsize={limits.max_file_bytes}", f"--nofile={limits.max_open_files}", "--core=0"]
    if nproc is not None:
        argv.append(f"--nproc={nproc}")
    return argv + ["--"]


def apply_rlimits(limits: Limits, nproc: int | None = None) -> None:
    """setrlimit every entry of ``rlimit_table`` in the current process (child side)."""
    for res, (soft, hard) in rlimit_table(limits, nproc).items():
        try:
            resource.setrlimit(res, (soft, hard))
        except (ValueError, OSError):
            cur_soft, cur_hard = resource.getrlimit(res)
            if cur_hard != resource.RLIM_INFINITY:
                resource.setrlimit(res, (min(soft, cur_hard), cur_hard))


def unshare_net() -> bool:
    """Move the calling process into a new, empty network namespace (root only); True on success."""
    try:
        if hasattr(os, "unshare"):
            os.unshare(os.CLONE_NEWNET)  # type: ignore[attr-defined]
            return True
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(0x40000000) == 0
    except OSError:
        return False


def looks_like_memory_error(stderr: bytes, exit_code: int | None) -> bool:
    """Did the program die of its memory limit (judged from the tail of its stderr)?"""
    if exit_code == 0:
        return False
    tail = stderr[-4096:]
    return any(m in tail for m in _MEMORY_MARKERS)
