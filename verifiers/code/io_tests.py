"""Host side of stdin/stdout tests: each case is a fresh sandbox run; stdout is judged here.

The expected output never enters the sandbox, so a program can neither read it nor forge a
"passed": only what it prints for each input counts. A sandbox failure on any case masks the
whole verdict.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from nemogym.verifiers.code.compare import outputs_match
from nemogym.verifiers.code.spec import IOCase, IOTests

from nemogym.verdict import Verdict


@dataclass
class CaseResult:
    """How one case went: passed, or the reason it failed (and what the program printed)."""

    index: int
    passed: bool
    reason: str | None = None
    got: str = ""
    stderr: str = ""
    timed_out: bool = False
    wall_s: float = 0.0
    isolation: str = "none"


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 15] + f"... [{len(s)} chars]"


async def _run_case(sandbox: Any, program: str, case: IOCase, index: int, tests: IOTests) -> CaseResult:
    from nemogym.sandboxes.base import Limits

    # stdout and stderr share the cap: leave room for a correct program's debug output on stderr
    cap = max(1 << 20, 2 * len(case.output.encode()) + 1024)
    limits = Limits(timeout_s=tests.case_timeout_s, memory_mb=tests.memory_mb, max_output_bytes=cap)
    res = await sandbox.arun_python(program, stdin=case.input, limits=limits)
    out = CaseResult(index, False, got=res.stdout, stderr=res.stderr, wall_s=res.wall_s,
                     isolation=res.isolation)
    if res.timed_out:
        out.reason, out.timed_out = f"time limit exceeded ({tests.case_timeout_s}s)", True
    elif res.memory_exceeded:
        out.reason = "memory limit exceeded"
    elif res.output_truncated:
        out.reason = f"output limit exceeded ({cap} bytes)"
    elif res.signal:
        out.reason = f"killed by signal {res.signal}"
    elif res.exit_code != 0:
        out.reason = f"runtime error (exit code {res.exit_code})"
    else:
        ok, why = outputs_match(res.stdout, case.output, tests.compare, tests.float_tol)
        out.passed, out.reason = ok, (None if ok else f"wrong answer: {why}")
    return out


async def arun_io_tests(sandbox: Any, program: str, tests: IOTests) -> Verdict:
    """Run every case (all-or-nothing stops at the first failure) and score the fraction passed."""
    from nemogym.sandboxes.base import SandboxError

    results: list[CaseResult] = []
    step = max(1, tests.max_parallel)
    try:
        for start in range(0, len(tests.cases), step):
            chunk = tests.cases[start:start + step]
            results += await asyncio.gather(*(_run_case(sandbox, program, c, start + i, tests)
                                              for i, c in enumerate(chunk)))
            if not tests.partial_credit and not all(r.passed for r in results):
                break
    except SandboxError as e:
        return Verdict.infra_failure(f"sandbox failed: {e}", style="io", cases_run=len(results))
    total = len(tests.cases)
    passed = sum(r.passed for r in results)
    fraction = passed / total
    details: dict[str, Any] = {
        "style": "io", "passed": passed, "total": total, "cases_run": len(results),
        "isolation": results[0].isolation if results else "none",
        "wall_s": round(sum(r.wall_s for r in results), 4),
    }
    failed = next((r for r in results if not r.passed), None)
    if failed is not None:
        case = tests.cases[failed.index]
        details["first_failure"] = {
            "case": failed.index, "reason": failed.reason, "input": _clip(case.input, 500),
            "expected": _clip(case.output, 500), "got": _clip(failed.got, 500),
            "stderr": _clip(failed.stderr[-2000:], 500), "timed_out": failed.timed_out,
        }
    if failed is None:
        return Verdict(reward=1.0, components={"cases_passed": 1.0}, details=details)
    reward = fraction if tests.partial_credit else 0.0
    reason = f"case {failed.index + 1} of {total}: {failed.reason}"
    return Verdict(reward=reward, components={"cases_passed": fraction}, details={"reason": reason, **details})
