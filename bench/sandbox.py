"""Sandbox throughput: executions/s and p50/p95 latency, warm pool vs cold sandbox vs bare python.

Modes (all with the same interpreter and flags): ``subprocess`` (a plain ``python`` start per
job, no isolation: the baseline; ``subprocess -I -S`` is the fastest bare start, without
``site``, for reference), ``local-cold`` (``LocalSandbox``: one bubblewrap sandbox per
job) and ``warm-pool`` (``WarmPool``: forked from pre-started workers inside bubblewrap), plus
``warm-pool-async`` (the same pool driven by ``asyncio.gather``). Workloads: a trivial program
and a function checked by a ``unittest`` test case. Concurrency 1 and 2x cores.

    python bench/sandbox.py            # full table (about a minute on 2 cores)
    python bench/sandbox.py --jobs 40  # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from nemogym.sandboxes import Limits, LocalSandbox, WarmPool, _bwrap, _cgroup

TRIVIAL = "def f(x):\n    return x + 1\nassert f(1) == 2\n"

FUNCTION_WITH_TESTS = '''
import io
import unittest


def has_close_elements(numbers, threshold):
    s = sorted(numbers)
    return any(b - a < threshold for a, b in zip(s, s[1:]))


class Check(unittest.TestCase):
    def test_close(self):
        self.assertTrue(has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3))

    def test_far(self):
        self.assertFalse(has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05))

    def test_empty(self):
        self.assertFalse(has_close_elements([], 1.0))

    def test_many(self):
        self.assertTrue(has_close_elements(list(range(1000)) + [500.5], 0.6))


result = unittest.TextTestRunner(stream=io.StringIO()).run(
    unittest.defaultTestLoader.loadTestsFromTestCase(Check))
assert result.wasSuccessful()
print("passed", result.testsRun)
'''

LIMITS = Limits(timeout_s=20, memory_mb=1024)


def plain_subprocess(python: str, flags: tuple[str, ...]) -> Callable[[str], bool]:
    """The baseline: write the program to a temp dir and start ``python`` on it, no isolation."""
    def run(code: str) -> bool:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "main.py")
            with open(path, "w") as f:
                f.write(code)
            r = subprocess.run([python, *flags, path], cwd=d, capture_output=True, timeout=60)
        return r.returncode == 0
    return run


def measure(run: Callable[[str], bool], code: str, jobs: int, conc: int) -> tuple:
    """Run ``jobs`` executions with ``conc`` threads: (wall seconds, latencies, ok flags)."""
    lat: list[float] = []

    def one(_: int) -> bool:
        t = time.perf_counter()
        ok = run(code)
        lat.append(time.perf_counter() - t)
        return ok

    t0 = time.perf_counter()
    with ThreadPoolExecutor(conc) as ex:
        oks = list(ex.map(one, range(jobs)))
    return time.perf_counter() - t0, lat, oks


def measure_async(pool: WarmPool, code: str, jobs: int, conc: int) -> tuple:
    """The pool driven from one event loop: ``conc`` callers at a time via asyncio."""
    lat: list[float] = []

    async def drive() -> list[bool]:
        sem = asyncio.Semaphore(conc)

        async def one() -> bool:
            async with sem:
                t = time.perf_counter()
                r = await pool.arun_python(code, limits=LIMITS)
                lat.append(time.perf_counter() - t)
                return r.ok

        return await asyncio.gather(*(one() for _ in range(jobs)))

    t0 = time.perf_counter()
    oks = asyncio.run(drive())
    return time.perf_counter() - t0, lat, oks


def interleaved(modes: dict[str, Callable], code: str, jobs: int, conc: int,
                rounds: int) -> dict[str, dict]:
    """Measure every mode in ``rounds`` alternating slices, so a noisy neighbour hits all alike."""
    acc: dict[str, list] = {m: [0.0, [], []] for m in modes}
    for _ in range(rounds):
        for name, fn in modes.items():
            wall, lat, oks = fn(code, max(1, jobs // rounds), conc)
            acc[name][0] += wall
            acc[name][1] += lat
            acc[name][2] += oks
    return {name: _summary(*a) for name, a in acc.items()}


def _summary(wall: float, lat: list[float], oks: list[bool]) -> dict:
    lat = sorted(lat)
    return {"rate": len(lat) / wall, "p50": statistics.median(lat) * 1e3,
            "p95": lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1e3,
            "failed": oks.count(False)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100, help="executions per cell (default 100)")
    ap.add_argument("--rounds", type=int, default=4,
                    help="alternating slices per cell, to spread load noise over all modes")
    ap.add_argument("--concurrency", type=int, nargs="*", default=None,
                    help="levels to measure (default: 1 and 2x cores)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    levels = args.concurrency or [1, 2 * cores]
    local = LocalSandbox(limits=LIMITS)
    pool = WarmPool(limits=LIMITS).start()
    python, flags = local.python, local.python_flags
    pool.run_python("pass")  # wait until the workers are up
    for _ in range(2 * pool.size):
        pool.run_python(TRIVIAL)
    bw = subprocess.run([_bwrap.find_bwrap() or "bwrap", "--version"], capture_output=True, text=True)
    print(f"machine: {platform.platform()}, {cores} cores, python {platform.python_version()} "
          f"({python} {' '.join(flags)})")
    print(f"sandbox: {bw.stdout.strip()}, pids cgroup: {_cgroup.cgroup_base() or 'none'}, "
          f"pool size {pool.size}, {args.jobs} jobs per cell")
    modes: dict[str, Callable] = {
        "subprocess": lambda code, n, conc: measure(plain_subprocess(python, flags), code, n, conc),
        "subprocess -I -S": lambda code, n, conc: measure(plain_subprocess(python, ("-I", "-S")),
                                                          code, n, conc),
        "local-cold": lambda code, n, conc: measure(
            lambda c: local.run_python(c, limits=LIMITS).ok, code, n, conc),
        "warm-pool": lambda code, n, conc: measure(
            lambda c: pool.run_python(c, limits=LIMITS).ok, code, n, conc),
        "warm-pool-async": lambda code, n, conc: measure_async(pool, code, n, conc),
    }
    header = f"{'workload':<20}{'conc':>5}  {'mode':<18}{'exec/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'vs base':>9}"
    print("\n" + header + "\n" + "-" * len(header))
    failures = 0
    for wname, code in (("trivial", TRIVIAL), ("function+unittest", FUNCTION_WITH_TESTS)):
        for conc in levels:
            base = None
            for mname, m in interleaved(modes, code, args.jobs, conc, args.rounds).items():
                failures += m["failed"]
                base = base or m["rate"]
                print(f"{wname:<20}{conc:>5}  {mname:<18}{m['rate']:>9.1f}{m['p50']:>9.1f}"
                      f"{m['p95']:>9.1f}{m['rate'] / base:>8.2f}x"
                      + (f"  ({m['failed']} FAILED)" if m["failed"] else ""), flush=True)
    pool.close()
    if failures:
        print(f"\n{failures} executions failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
