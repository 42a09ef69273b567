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
    totals, totals_ord = [], []
    for _ in range(rounds):
        clear()
        spent = []
        for c in cases:
            t0 = time.perf_counter()
            run(c)
            spent.append(time.perf_counter() - t0)
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
        "wrong": Counter(c["category"] for c in wrong),
        "wrong_ids": [c["id"] for c in wrong],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=HERE / "data" / "math_cases.jsonl")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--show-wrong", action="store_true")
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
    print(f"\n{'verifier':<12} {'accuracy':>9} {'FP':>4} {'FN':>4} {'FP hedge/hack':>14} "
          f"{'verif/s all':>12} {'verif/s ordinary':>17}")
    for r in rows:
        print(f"{r['name']:<12} {r['accuracy']:>9.1%} {r['fp']:>4} {r['fn']:>4} "
              f"{r['fp_adversarial']:>14} {r['per_s']:>12,.0f} {r['per_s_ordinary']:>17,.0f}")
    if len(rows) == 2:
        a, b = rows
        print(f"\nnemogym / math-verify: {a['per_s'] / b['per_s']:.1f}x verifications/s on all cases, "
              f"{a['per_s_ordinary'] / b['per_s_ordinary']:.1f}x on the ordinary ones (without the "
              f"hedging/hacking cases, where math-verify spends its timeouts); accuracy "
              f"{100 * (a['accuracy'] - b['accuracy']):+.1f} points")
    print("\nerrors by category:")
    for r in rows:
        print(f"  {r['name']}: " + (", ".join(f"{k} {v}" for k, v in sorted(r["wrong"].items())) or "none"))
        if args.show_wrong:
            print("    " + " ".join(r["wrong_ids"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
