"""Host side of function-style (HumanEval-like) tests: one sandbox run of the trusted harness.

The harness (``_harness.py``) gets the job on stdin with a fresh secret nonce and answers with
one line ``<nonce> <json>``; only that line counts. No line means the program stopped or
disrupted the harness (reward 0), unless the sandbox itself failed (masked).
"""

from __future__ import annotations

import json
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from nemogym.verifiers.code.spec import RUN_OVERHEAD_S, FunctionTests

from nemogym.verdict import Verdict

#: Seconds on top of the tests' budget for the sandbox to start the harness and the program.
STARTUP_MARGIN_S = RUN_OVERHEAD_S
HARNESS_UNREADABLE = "nemogym harness: unreadable job"


@cache
def _source(name: str) -> str:
    return (Path(__file__).parent / name).read_text(encoding="utf-8")


def harness_source() -> str:
    """The trusted in-sandbox harness program (run with ``run_python``)."""
    return _source("_harness.py")


def build_job(program: str, tests: FunctionTests, nonce: str, *, output_chars: int = 2000) -> str:
    """The harness's stdin: everything it needs, including the secret nonce and the test code."""
    return json.dumps({
        "nonce": nonce, "program": program, "test": tests.test, "setup": tests.code_prompt,
        "entry_point": tests.entry_point,
        "timeout_s": tests.timeout_s, "worker": _source("_worker.py"), "python_flags": ["-I"] if tests.site_packages else ["-I", "-S"],
        "output_chars": output_chars,
    })


class Tampered(Exception):
    """The sandbox's stdout holds more than the harness's one verdict line."""


def parse_harness_output(stdout: str, nonce: str) -> dict[str, Any] | None:
    """The harness's verdict: the one line starting with this run's nonce (None if absent).

    Raises ``Tampered`` when several lines carry the nonce: only the harness writes one.
    """
    prefix = nonce + " "
    lines = [line for line in stdout.splitlines() if line.startswith(prefix)]
    if len(lines) > 1:
        raise Tampered(f"{len(lines)} verdict lines")
    if not lines:
        return None
    try:
        result = json.loads(lines[0][len(prefix):])
    except json.JSONDecodeError:
        return None
    return result if isinstance(result, dict) else None


async def arun_function_tests(sandbox: Any, program: str, tests: FunctionTests, *,
                              nonce: str | None = None) -> Verdict:
    """Run ``tests`` against ``program`` in ``sandbox`` and turn what happened into a Verdict."""
    from nemogym.sandboxes.base import Limits, SandboxError

    nonce = nonce or secrets.token_hex(16)
    limits = Limits(timeout_s=tests.timeout_s + STARTUP_MARGIN_S, memory_mb=tests.memory_mb)
    try:
        res = await sandbox.arun_python(harness_source(), stdin=build_job(program, tests, nonce), limits=limits)
    except SandboxError as e:
        return Verdict.infra_failure(f"sandbox failed: {e}", style="function")
    base = {"style": "function", "isolation": res.isolation, "wall_s": round(res.wall_s, 4)}
    try:
        result = parse_harness_output(res.stdout, nonce)
    except Tampered as e:
        return _zero(f"the harness's output was tampered with ({e})", base)
    if result is None:
        return _no_verdict(res, base)
    if res.exit_code != 0 or res.timed_out:
        # The harness always exits 0 right after its line; anything else means it was disturbed.
        return _zero(f"the harness was disturbed after reporting (exit code {res.exit_code}, "
                     f"signal {res.signal}, timed out {res.timed_out})", base)
    status = result.get("status")
    details = {**base, **{k: result[k] for k in ("calls", "last_call", "program_output", "phase",
                                                 "traceback") if result.get(k) not in (None, "")}}
    if not result.get("non_dumpable", False):
        details["warning"] = "harness could not make itself non-dumpable"
    if status == "passed":
        return Verdict(reward=1.0, components={"tests_passed": 1.0}, details={**details, "passed": True})
    if status == "failed":
        reason = str(result.get("message") or "tests failed")
        v = Verdict.wrong(reason, **details, passed=False, timed_out=bool(result.get("timed_out")))
        v.components["tests_passed"] = 0.0
        return v
    if status == "test_error":
        return Verdict.infra_failure(f"the task's tests are broken: {result.get('message')}", **details)
    return Verdict.infra_failure(f"harness error: {result.get('message')}", **details)


def _zero(reason: str, details: dict[str, Any]) -> Verdict:
    v = Verdict.wrong(reason, **details, tampered=True)
    v.components["tests_passed"] = 0.0
    return v


def _no_verdict(res: Any, base: dict[str, Any]) -> Verdict:
    """No nonce line came back: say why, masking only what the program cannot have caused."""
    details = {**base, "exit_code": res.exit_code, "signal": res.signal,
               "stderr": res.stderr[-1000:] if res.stderr else ""}
    if res.timed_out:
        v = Verdict.wrong("time limit exceeded", **details, timed_out=True)
    elif res.memory_exceeded:
        v = Verdict.wrong("memory limit exceeded", **details)
    elif res.exit_code == 3 and (res.stderr or "").startswith(HARNESS_UNREADABLE):
        # Only the harness writes there, before the program exists: a host-side problem.
        return Verdict.infra_failure(res.stderr.strip()[-500:], **details)
    else:
        v = Verdict.wrong("no verdict from the test harness: the program ended or disrupted it "
                          f"(exit code {res.exit_code}, signal {res.signal})", **details)
    v.components["tests_passed"] = 0.0
    return v
