"""Code verification throughput: verifications/s and p50/p95 over the shipped example problems.

Every reference solution of ``envs/code/data/code_example.jsonl`` (function-style and
stdin/stdout) is verified ``--rounds`` times at concurrency 1 and 2x cores, by:

* ``unsandboxed``: the baseline, what an unsandboxed checker does (human-eval style): one
  ``python -c program+test+check(entry)`` subprocess per function problem, one ``python``
  per stdin/stdout case, compared on the host. No isolation, no integrity guarantees.
* ``verify/local-cold``: ``nemogym.verifiers.code.averify`` on ``LocalSandbox`` (one
  bubblewrap sandbox per run).
* ``verify/warm-pool``: the same on ``default_sandbox()`` (the warm pool).

    python bench/code_verify.py              # about a minute on 2 cores
    python bench/code_verify.py --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from nemogym.sandboxes import LocalSandbox, default_sandbox
from nemogym.verifiers.code import FunctionTests, averify, outputs_match, spec_from_row

DATA = Path(__file__).resolve().parents[1] / "envs" / "code" / "data" / "code_example.jsonl"


async def _python(code: str, stdin: str | None, timeout: float) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-c", code, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        out, _ = await asyncio.wait_for(proc.communicate((stdin or "").encode()), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -9, ""
    return proc.returncode or 0, out.decode(errors="replace")


async def unsandboxed(row: dict, tests) -> float:
    """The baseline checker: exec program + test in one unsandboxed process (or one per case)."""
    if isinstance(tests, FunctionTests):
        code = f"{row['solution']}\n{tests.test}\ncheck({tests.entry_point})\n"
        rc, _ = await _python(code, None, tests.timeout_s)
        return float(rc == 0)
    for case in tests.cases:
        rc, out = await _python(row["solution"], case.input, tests.case_timeout_s)
        if rc != 0 or not outputs_match(out, case.output, tests.compare, tests.float_tol)[0]:
            return 0.0
    return 1.0


async def run_pass(jobs: list, concurrency: int, sandbox, latencies: list, rewards: list) -> float:
    """One pass over ``jobs``; appends per-verification latencies and rewards; returns wall seconds."""
    sem = asyncio.Semaphore(concurrency)

    async def one(row, tests):
        async with sem:
            t = time.perf_counter()
            if sandbox is None:
                r = await unsandboxed(row, tests)
            else:
                r = (await averify(row["solution"], tests, sandbox=sandbox, extract=False)).reward
            latencies.append(time.perf_counter() - t)
            rewards.append(r)

    start = time.perf_counter()
    await asyncio.gather(*(one(row, tests) for row, tests in jobs))
    return time.perf_counter() - start


def summary(name: str, concurrency: int, wall: float, latencies: list, rewards: list) -> dict:
    latencies = sorted(latencies)
    return {"mode": name, "concurrency": concurrency, "per_s": len(latencies) / wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
            "all_pass": all(r == 1.0 for r in rewards)}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="passes over the example set per mode")
    args = ap.parse_args()
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    jobs = [(row, spec_from_row(row)) for row in rows]
    cores = os.cpu_count() or 1
    pool, local = default_sandbox(), LocalSandbox()
    await averify(rows[0]["solution"], jobs[0][1], sandbox=pool, extract=False)  # start the workers
    print(f"machine: {platform.platform()}, {cores} cores, python {platform.python_version()}; "
          f"{len(rows)} problems x {args.rounds} rounds "
          f"({sum(isinstance(t, FunctionTests) for _, t in jobs)} function-style), modes interleaved")
    modes = (("unsandboxed (baseline)", None), ("verify/local-cold", local), ("verify/warm-pool", pool))
    results = []
    for conc in (1, 2 * cores):
        # Rounds interleave the modes, so load from neighbours on the machine hits all alike.
        acc = {name: (0.0, [], []) for name, _ in modes}
        for _ in range(args.rounds):
            for name, sb in modes:
                wall, lat, rew = acc[name]
                acc[name] = (wall + await run_pass(jobs, conc, sb, lat, rew), lat, rew)
        results += [summary(name, conc, *acc[name]) for name, _ in modes]
    base = {r["concurrency"]: r["per_s"] for r in results if r["mode"].startswith("unsandboxed")}
    print("\n| mode | conc | verifications/s | p50 ms | p95 ms | vs baseline | all refs 1.0 |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(f"| {r['mode']} | {r['concurrency']} | {r['per_s']:.1f} | {r['p50_ms']:.1f} | "
              f"{r['p95_ms']:.1f} | {r['per_s'] / base[r['concurrency']]:.2f}x | {r['all_pass']} |")
    pool.close()


if __name__ == "__main__":
    asyncio.run(main())
