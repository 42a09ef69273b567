"""A pids cgroup per run or per warm worker: the fork-bomb guard that works for root.

RLIMIT_NPROC does nothing for root (nor for a user namespace mapped to root), so the number of
processes is bounded by a cgroup when one is writable: cgroup v1 ``pids`` (``/sys/fs/cgroup/pids``)
or a v2 tree whose ``cgroup.subtree_control`` enables ``pids``. ``kill_all`` also kills every
member, including ones that left the process group with ``setsid``.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time

log = logging.getLogger("nemogym.sandboxes")

_V1 = "/sys/fs/cgroup/pids"
_V2 = "/sys/fs/cgroup"
_counter = itertools.count()
_lock = threading.Lock()
_base: str | None | bool = False  # False = not probed yet


def _own_v2_dir() -> str | None:
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return os.path.join(_V2, line[3:].strip().lstrip("/"))
    except OSError:
        pass
    return None


def _probe() -> str | None:
    candidates = []
    if os.path.isfile(os.path.join(_V1, "cgroup.procs")):
        candidates.append(_V1)
    own = _own_v2_dir()
    if own and os.path.isfile(os.path.join(_V2, "cgroup.controllers")):
        try:
            with open(os.path.join(own, "cgroup.subtree_control")) as f:
                if "pids" in f.read().split():
                    candidates.append(own)
        except OSError:
            pass
    for parent in candidates:
        base = os.path.join(parent, "nemogym")
        try:
            os.makedirs(base, exist_ok=True)
            probe = os.path.join(base, f"probe-{os.getpid()}")
            os.mkdir(probe)
            with open(os.path.join(probe, "pids.max"), "w") as f:
                f.write("8")
            os.rmdir(probe)
            _reap_stale(base)
            return base
        except OSError:
            continue
    return None


def _reap_stale(base: str) -> None:
    """Remove empty cgroups left by dead processes of earlier runs."""
    for name in os.listdir(base):
        owner = name.split("-", 1)[0]
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            try:
                os.rmdir(os.path.join(base, name))
            except OSError:
                pass


def cgroup_base() -> str | None:
    """The writable parent directory for our pids cgroups, or None (probed once)."""
    global _base
    with _lock:
        if _base is False:
            _base = _probe()
            log.info("pids cgroup: %s", _base or "not available (process count bounded by pid namespace only)")
        return _base  # type: ignore[return-value]


_PID_MAX_LIMIT = 1 << 22  # the most pids.max accepts; above it there is no limit to set


class PidsCgroup:
    """One pids cgroup; join it by writing a pid to ``procs_path`` before the program forks."""

    def __init__(self, max_pids: int):
        base = cgroup_base()
        if base is None:
            raise OSError("no writable pids cgroup")
        self.path = os.path.join(base, f"{os.getpid()}-{next(_counter)}")
        os.mkdir(self.path)
        self.procs_path = os.path.join(self.path, "cgroup.procs")
        self.set_max(max_pids)

    def set_max(self, max_pids: int) -> None:
        n = max(1, int(max_pids))
        with open(os.path.join(self.path, "pids.max"), "w") as f:
            f.write(str(n) if n <= _PID_MAX_LIMIT else "max")  # the kernel refuses more

    def pids(self) -> list[int]:
        try:
            with open(self.procs_path) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def kill_all(self, keep: int | None = None) -> int:
        """SIGKILL every member (but ``keep``) until none is left; returns how many were seen."""
        seen: set[int] = set()
        for _ in range(200):
            pids = [p for p in self.pids() if p != keep]
            if not pids:
                break
            for p in pids:
                seen.add(p)
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.001)
        return len(seen)

    def remove(self, wait_s: float = 1.0) -> None:
        """Kill what is left and delete the cgroup (retrying while exiting tasks drain)."""
        deadline = time.monotonic() + wait_s
        while True:
            self.kill_all()
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    log.warning("could not remove cgroup %s (still busy)", self.path)
                    return
                time.sleep(0.005)


def make_cgroup(max_pids: int) -> PidsCgroup | None:
    """A fresh pids cgroup, or None where none can be created."""
    if cgroup_base() is None:
        return None
    try:
        return PidsCgroup(max_pids)
    except OSError as e:
        log.warning("could not create a pids cgroup: %s", e)
        return None
