"""Bench the math verifier on the labelled cases; compare with ``math-verify`` if installed.

    python bench/math_verify.py [--rounds 3] [--cases bench/data/math_cases.jsonl]

Prints accuracy, false positives (overall and on hedging/hacking cases), false negatives and
verifications per second on one core (one process, one thread, median of the rounds; caches
are cleared before every round so that nothing is measured warm), on all cases and on the
"ordinary" ones (all but the hedging/hacking cases, which hold the adversarial inputs). When the optional package ``math-verify`` is
installed it runs on the same cases in the same run, and the ratio of speeds is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
# this script is named like the package it compares with: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.modules.pop("math_verify", None) if getattr(sys.modules.get("math_verify"), "__file__", "") == __file__ else None
ADVERSARIAL = {"hedging", "hacking"}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ours():
    from nemogym.verifiers.math import numeric, verifier, verify

    def clear() -> None:
        verifier.parse_gold.cache_clear()
        verifier.parse_answer.cache_clear()
        numeric.compile_expr.cache_clear()

    def run(case: dict) -> bool:
        return verify(case["response"], case["gold"]).reward == 1.0

    return "nemogym", run, clear


def theirs():
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    from nemogym.verifiers.math import gold_text

    def clear() -> None:
        for fn in (parse, verify):
            if hasattr(fn, "cache_clear"):
                fn.cache_clear()

    def run(case: dict) -> bool:
        # math-verify's documented use: parse the gold (given boxed) and the response, verify.
        gold = parse("\\boxed{" + gold_text(case["gold"]) + "}")
        return bool(verify(gold, parse(case["response"])))

    return "math-verify", run, clear


def measure(name, run, clear, cases: list[dict], rounds: int) -> dict:
    import logging

    logging.disable(logging.WARNING)  # math-verify logs every timeout
    results = [run(c) for c in cases]  # warm-up (starts workers), also the scored pass
    ordinary = [c["category"] not in ADVERSARIAL for c in cases]
    totals, totals_ord, per_case = [], [], [[] for _ in cases]
    for _ in range(rounds):
        clear()
        spent = []
        for c in cases:
            t0 = time.perf_counter()
            run(c)
            spent.append(time.perf_counter() - t0)
            per_case[len(spent) - 1].append(spent[-1])
        totals.append(sum(spent))
        totals_ord.append(sum(t for t, o in zip(spent, ordinary, strict=True) if o))
    wrong = [c for c, r in zip(cases, results, strict=True) if r != c["expected"]]
    fp = [c for c in wrong if not c["expected"]]
    return {
        "name": name,
        "accuracy": 1 - len(wrong) / len(cases),
        "fp": len(fp),
        "fn": len(wrong) - len(fp),
        "fp_adversarial": sum(1 for c in fp if c["category"] in ADVERSARIAL),
        "per_s": len(cases) / sorted(totals)[len(totals) // 2],
        "per_s_ordinary": sum(ordinary) / sorted(totals_ord)[len(totals_ord) // 2],
        "median_us": 1e6 * sorted(min(t) for t in per_case)[len(cases) // 2],
        "wrong": Counter(c["category"] for c in wrong),
        "wrong_ids": [c["id"] for c in wrong],
    }


SYMPY_JOBS = [("binomial(n+1,2)", "n*(n+1)/2"), ("(x+1)**2", "x**2+2*x+1"),
              ("sin(x)**2+cos(x)**2", "1"), ("binomial(n,2)", "n**2/2"),
              ("factorial(n+1)/factorial(n)", "n+1"), ("floor(x)+1", "ceiling(x)")]


def sympy_backends(repeat: int) -> None:
    """The cost of one sympy check: in this process under signal.setitimer (main thread only,
    cannot stop a hang in C code) vs. the bounded worker process (always bounded)."""
    import importlib.util

    from nemogym.verifiers.math import timeout as tmo

    spec = importlib.util.spec_from_file_location("_nemogym_sympy_worker", tmo.WORKER_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import signal

    signal.signal(signal.SIGALRM, mod._alarm)
    check = mod.build_checker()
    jobs = [{"a": a, "b": b, "mode": "equal", "rel_tol": 1e-6, "timeout": 5.0} for a, b in SYMPY_JOBS]
    for j in jobs:  # warm both
        mod.run_job(check, j)
        tmo.sympy_equal(j["a"], j["b"], timeout_s=5.0)
    t0 = time.perf_counter()
    for _ in range(repeat):
        for j in jobs:
            mod.run_job(check, j)
    inproc = (time.perf_counter() - t0) / (repeat * len(jobs))
    t0 = time.perf_counter()
    for _ in range(repeat):
        for j in jobs:
            tmo.sympy_equal(j["a"], j["b"], timeout_s=5.0)
    worker = (time.perf_counter() - t0) / (repeat * len(jobs))
    t0 = time.perf_counter()
    for _ in range(repeat * 20):
        tmo._get_pool().call({"mode": "ping"}, 5.0)
    trivial = (time.perf_counter() - t0) / (repeat * 20)
    t0 = time.perf_counter()
    tmo._get_pool().call({"mode": "_hang_in_c", "seconds": 30}, 0.2)
    tmo.sympy_equal("x", "x", timeout_s=30.0)
    restart = time.perf_counter() - t0 - 0.2 - tmo.GRACE_S
    print(f"\nsympy step ({len(jobs)} symbolic checks x {repeat}): in-process with setitimer "
          f"{inproc * 1e3:.2f} ms/check, bounded worker process {worker * 1e3:.2f} ms/check "
          f"(round trip of an empty job {trivial * 1e6:.0f} us); a hang in C code costs the "
          f"timeout + {tmo.GRACE_S}s grace + {restart:.2f}s to have a fresh worker ready")


def env_cases(per_env: int) -> list[dict]:
    """Cases not written for this bench: each procedural math env's reference answer (must be
    accepted) and its stored wrong answer (must be rejected), ``per_env`` seeds each."""
    import nemogym

    out = []
    for info in nemogym.list_envs():
        if not info.entry_point.startswith(("nemogym.envs.math.algebra", "nemogym.envs.math.numbers")):
            continue
        env = nemogym.make(info.id, difficulty=3)
        for seed in range(per_env):
            task = env.tasks.get(seed)
            cat = info.id.split("/")[1]
            out.append({"id": f"{cat}-{seed}-ref", "category": cat, "gold": task.answer,
                        "response": env.reference_for(task), "expected": True})
            out.append({"id": f"{cat}-{seed}-wrong", "category": cat, "gold": task.answer,
                        "response": f"The answer is \\boxed{{{task.metadata['wrong']}}}.",
                        "expected": False})
    return out


def table(rows: list[dict]) -> None:
    print(f"\n{'verifier':<12} {'accuracy':>9} {'FP':>4} {'FN':>4} {'FP hedge/hack':>14} "
          f"{'verif/s all':>12} {'verif/s ordinary':>17} {'median us/case':>15}")
    for r in rows:
        print(f"{r['name']:<12} {r['accuracy']:>9.1%} {r['fp']:>4} {r['fn']:>4} "
              f"{r['fp_adversarial']:>14} {r['per_s']:>12,.0f} {r['per_s_ordinary']:>17,.0f} "
              f"{r['median_us']:>15,.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=HERE / "data" / "math_cases.jsonl")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--show-wrong", action="store_true")
    ap.add_argument("--env-cases", type=int, default=40,
                    help="seeds per procedural env for the second table (0: skip)")
    ap.add_argument("--no-sympy-backends", action="store_true", help="skip the sympy step timing")
    args = ap.parse_args()
    cases = load(args.cases)
    cats = Counter(c["category"] for c in cases)
    adv = sum(1 for c in cases if c["category"] in ADVERSARIAL and not c["expected"])
    print(f"{len(cases)} cases ({sum(c['expected'] for c in cases)} positive), {len(cats)} categories, "
          f"{adv} hedging/hacking negatives; python {platform.python_version()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus")
    rows = [measure(*ours(), cases, args.rounds)]
    other = theirs()
    if other is None:
        print("math-verify is not installed (pip install math-verify): comparing with nothing")
    else:
        rows.append(measure(*other, cases, args.rounds))
    table(rows)
    if len(rows) == 2:
        a, b = rows
        print(f"\nnemogym / math-verify: {a['per_s'] / b['per_s']:.1f}x verifications/s on all cases, "
              f"{a['per_s_ordinary'] / b['per_s_ordinary']:.1f}x on the ordinary ones (without the "
              f"hedging/hacking cases, where math-verify spends its timeouts), "
              f"{b['median_us'] / a['median_us']:.1f}x on the median case; accuracy "
              f"{100 * (a['accuracy'] - b['accuracy']):+.1f} points")
    print("\nerrors by category:")
    for r in rows:
        print(f"  {r['name']}: " + (", ".join(f"{k} {v}" for k, v in sorted(r["wrong"].items())) or "none"))
        if args.show_wrong:
            print("    " + " ".join(r["wrong_ids"]))
    if args.env_cases:
        generated = env_cases(args.env_cases)
        print(f"\nSecond set, not written for this bench: {len(generated)} reference/wrong answers "
              f"of the procedural math envs")
        rows2 = [measure(*ours(), generated, args.rounds)]
        if other is not None:
            rows2.append(measure(*other, generated, args.rounds))
        table(rows2)
        if len(rows2) == 2:
            print(f"\nnemogym / math-verify on this set: {rows2[0]['per_s'] / rows2[1]['per_s']:.1f}x "
                  f"verifications/s; errors: math-verify "
                  + (", ".join(f"{k} {v}" for k, v in sorted(rows2[1]["wrong"].items())) or "none")
                  + "; nemogym " + (", ".join(f"{k} {v}" for k, v in sorted(rows2[0]["wrong"].items())) or "none"))
    if not args.no_sympy_backends:
        sympy_backends(repeat=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
