"""``verify`` / ``averify``: a response and its tests in, a ``Verdict`` out.

No code in the response is reward 0 with that reason; a wrong, crashing or slow program is 0
with the reason; a sandbox that fails is masked (``masked=True``), never a plain 0.
"""

from __future__ import annotations

import threading
from typing import Any

from nemogym.verifiers.code.extract import Strategy, extract_program
from nemogym.verifiers.code.function_tests import arun_function_tests
from nemogym.verifiers.code.io_tests import arun_io_tests
from nemogym.verifiers.code.spec import FunctionTests, IOTests, Tests

from nemogym._async import run_sync
from nemogym.verdict import Verdict

_default_sandbox: Any = None
_lock = threading.Lock()


def default_sandbox() -> Any:
    """The process-wide ``nemogym.sandboxes.default_sandbox()``, created on first use."""
    global _default_sandbox
    with _lock:
        if _default_sandbox is None:
            from nemogym.sandboxes import default_sandbox as make_default

            _default_sandbox = make_default()
        return _default_sandbox


async def averify(response: str, tests: Tests, *, sandbox: Any = None, extract: bool = True,
                  strategy: Strategy = "last") -> Verdict:
    """Score ``response`` (a model's text, or a bare program with ``extract=False``) on ``tests``.

    Uses the sandbox's async API only, so it never blocks the event loop.
    """
    if not isinstance(tests, FunctionTests | IOTests):
        raise TypeError(f"tests must be FunctionTests or IOTests, got {type(tests).__name__}")
    if extract:
        is_fn = isinstance(tests, FunctionTests)
        ext = extract_program(response, strategy=strategy,
                              entry_point=tests.entry_point if is_fn else None,
                              code_prompt=tests.code_prompt if is_fn else "")
        if ext.code is None:
            v = Verdict.wrong(ext.reason or "no code found in the response", no_code=True)
            v.components["tests_passed" if is_fn else "cases_passed"] = 0.0
            return v
        program = ext.code
    else:
        if not isinstance(response, str) or not response.strip():
            return Verdict.wrong("empty program", no_code=True)
        program = response
    try:
        sb = sandbox if sandbox is not None else default_sandbox()
    except Exception as e:  # noqa: BLE001 - no sandbox here is an infrastructure problem
        return Verdict.infra_failure(f"no sandbox available: {type(e).__name__}: {e}")
    if isinstance(tests, FunctionTests):
        return await arun_function_tests(sb, program, tests)
    return await arun_io_tests(sb, program, tests)


def verify(response: str, tests: Tests, *, sandbox: Any = None, extract: bool = True,
           strategy: Strategy = "last") -> Verdict:
    """Synchronous ``averify`` (safe to call inside or outside a running event loop)."""
    return run_sync(averify(response, tests, sandbox=sandbox, extract=extract, strategy=strategy))


def feedback(verdict: Verdict, max_chars: int = 1500) -> str:
    """A short, model-facing account of why an attempt failed (for multi-turn retries)."""
    if verdict.reward >= 1.0 and not verdict.masked:
        return "All tests passed."
    d = verdict.details
    parts = [f"Your solution failed: {verdict.reason or 'tests failed'}."]
    fail = d.get("first_failure")
    if fail:
        parts.append(f"Input:\n{fail['input']}\nExpected output:\n{fail['expected']}\nYour output:\n{fail['got']}")
        if fail.get("stderr"):
            parts.append(f"Stderr:\n{fail['stderr']}")
    last = d.get("last_call")
    if last:
        what = (f"returned {last['returned']}" if "returned" in last else
                f"raised {last['raised']}" if "raised" in last else "did not return")
        parts.append(f"Last call: candidate{last['args']} {what}.")
    if d.get("traceback"):
        parts.append(f"Traceback (end):\n{str(d['traceback'])[-600:]}")
    if d.get("program_output"):
        parts.append(f"Your program printed (end):\n{str(d['program_output'])[-400:]}")
    text = "\n\n".join(parts)
    return text if len(text) <= max_chars else text[: max_chars - 20] + "\n... [truncated]"
