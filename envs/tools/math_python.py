"""``nemogym/MathWithPython-v0``: math problems where the model may run Python in a sandbox.

Tool-integrated reasoning: one tool, ``python(code)``, runs the code in
``nemogym.sandboxes.default_sandbox()`` (or the sandbox passed in) and returns its stdout
(and the error output when it fails). The episode ends with a text reply and no tool call;
its final answer is checked by the math verifier (``nemogym.verifiers.math.verify``, or the
exact-match verifier when that is not installed). A sandbox that cannot run is an
infrastructure failure: the episode is masked.
"""

from __future__ import annotations

import math
import random
import threading
from fractions import Fraction
from typing import Any

from nemogym.envs.tools.base import ToolEnv
from nemogym.envs.tools.schema import InfraError, make_tool

from nemogym.env import Episode, Fixture
from nemogym.tasks import ProceduralTasks, Task
from nemogym.verdict import Verdict

SYSTEM_PROMPT = ("Solve the problem. You may call the `python` tool to compute; it runs the code you give "
                 "it and returns what it prints, so print the values you need. When you are done, reply "
                 "without calling a tool and give the final answer inside \\boxed{}.")
MAX_OUTPUT_CHARS = 4000


def _primes_below(n: int) -> list[int]:
    sieve = bytearray([1]) * n
    sieve[:2] = b"\x00\x00"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
    return [i for i in range(n) if sieve[i]]


def _problem(rng: random.Random, d: int) -> tuple[str, str, str]:
    """(question, exact answer, reference code printing the answer) for difficulty ``d``."""
    kind = rng.randrange(7)
    if kind == 0:
        n = rng.randint(200, 2000) * d
        return (f"What is the sum of all prime numbers below {n}?", str(sum(_primes_below(n))),
                f"n = {n}\nsieve = [True] * n\nsieve[0] = sieve[1] = False\n"
                "for i in range(2, int(n ** 0.5) + 1):\n    if sieve[i]:\n"
                "        for j in range(i * i, n, i):\n            sieve[j] = False\n"
                "print(sum(i for i in range(n) if sieve[i]))")
    if kind == 1:
        n, a, b, c = rng.randint(1000, 10000) * d, rng.choice([3, 4, 6]), rng.choice([5, 7]), rng.choice([10, 11, 13])
        ans = sum(1 for k in range(1, n + 1) if (k % a == 0 or k % b == 0) and k % c)
        return (f"How many integers from 1 to {n} are divisible by {a} or {b} but not by {c}?", str(ans),
                f"print(sum(1 for k in range(1, {n} + 1) if (k % {a} == 0 or k % {b} == 0) and k % {c}))")
    if kind == 2:
        b, e, m = rng.randint(2, 99), rng.randint(10 ** 3, 10 ** 6) * d, rng.randint(10 ** 3, 10 ** 5)
        return (f"What is the remainder when {b}^{e} is divided by {m}?", str(pow(b, e, m)), f"print(pow({b}, {e}, {m}))")
    if kind == 3:
        k = rng.randint(20, 60) * d
        return (f"What is the sum of the digits of {k}! (the factorial of {k})?",
                str(sum(map(int, str(math.factorial(k))))),
                f"import math\nprint(sum(int(c) for c in str(math.factorial({k}))))")
    if kind == 4:
        n = rng.randint(30, 80) * d
        k = rng.randint(3, n // 2)
        return (f"In how many ways can {k} items be chosen from {n} distinct items?", str(math.comb(n, k)),
                f"import math\nprint(math.comb({n}, {k}))")
    if kind == 5:
        n, m = rng.randint(100, 1000) * d, rng.choice([1000, 10007, 65537, 10 ** 9 + 7])
        a, b = 0, 1
        for _ in range(n):
            a, b = b, (a + b) % m
        return (f"Let F(0) = 0, F(1) = 1 and F(n) = F(n-1) + F(n-2). What is F({n}) modulo {m}?", str(a),
                f"a, b = 0, 1\nfor _ in range({n}):\n    a, b = b, (a + b) % {m}\nprint(a)")
    n = rng.randint(20, 200) * d
    value = sum(Fraction(1, k * (k + 1) * (k + 2)) for k in range(1, n + 1))
    return (f"Compute the sum of 1/(k(k+1)(k+2)) for k = 1 to {n}. Give the answer as a reduced fraction.",
            f"{value.numerator}/{value.denominator}",
            f"from fractions import Fraction\nprint(sum(Fraction(1, k * (k + 1) * (k + 2)) for k in range(1, {n} + 1)))")


def generate(rng: random.Random, difficulty: int) -> Task:
    question, answer, code = _problem(rng, max(1, int(difficulty)))
    return Task(prompt=question, answer=answer,
                reference=[{"name": "python", "arguments": {"code": code}},
                           f"The answer is \\boxed{{{answer}}}."],
                metadata={"code": code})


# One default sandbox per process, shared by every env instance that did not get its own (the
# runner makes one env per concurrent episode; a warm pool each would start concurrency x cores
# workers). Counted, so that it is closed when the last env using it closes.
_SHARED_LOCK = threading.Lock()
_shared: dict[str, Any] = {"sandbox": None, "users": 0}


def _acquire_shared() -> Any:
    from nemogym.sandboxes import default_sandbox

    with _SHARED_LOCK:
        if _shared["sandbox"] is None:
            _shared["sandbox"] = default_sandbox()
        _shared["users"] += 1
        return _shared["sandbox"]


def _release_shared(sandbox: Any) -> None:
    """One user fewer; the last one closes it (a sandbox that is not the shared one, e.g. from
    an env unpickled in another process, is closed at once)."""
    with _SHARED_LOCK:
        if sandbox is _shared["sandbox"]:
            _shared["users"] -= 1
            if _shared["users"] > 0:
                return
            _shared["sandbox"] = None
    sandbox.close()


def _math_verify() -> Any:
    """The math verifier if it is installed, else the exact-match one (imported lazily)."""
    try:
        from nemogym.verifiers.math import verify
    except ImportError:
        from nemogym.verifiers.exact import verify
    return verify


class MathWithPythonEnv(ToolEnv):
    """Math with a sandboxed ``python`` tool; reward from the final answer alone."""

    system_prompt = SYSTEM_PROMPT
    default_max_turns = 8
    max_calls_per_turn = 4

    def __init__(self, difficulty: int = 1, *, sandbox: Any = None, timeout_s: float = 10.0,
                 memory_mb: int = 512, **kwargs: Any):
        self._sandbox = sandbox
        self._own_sandbox = sandbox is None
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        super().__init__(ProceduralTasks(generate, difficulty, name="math-python"),
                         tools=[make_tool(self.python, name="python")], **kwargs)
        self.verifier = _math_verify()

    @property
    def sandbox(self) -> Any:
        """The sandbox: the one given, else the process's shared ``default_sandbox()``."""
        if self._sandbox is None:
            from nemogym.sandboxes import SandboxError

            try:
                self._sandbox = _acquire_shared()
            except SandboxError as e:
                raise InfraError(f"no sandbox available for the python tool: {e}") from e
        return self._sandbox

    async def python(self, code: str) -> str:
        """Run a Python 3 program and return what it prints (stdout; stderr too if it fails).

        Args:
            code: the complete program; print the values you want to see.
        """
        from nemogym.sandboxes import Limits, SandboxError

        try:
            res = await self.sandbox.arun_python(code, limits=Limits(timeout_s=self.timeout_s,
                                                                     memory_mb=self.memory_mb))
        except SandboxError as e:
            raise InfraError(f"sandbox failed: {e}") from e
        out = res.stdout[-MAX_OUTPUT_CHARS:]
        if res.timed_out:
            return f"{out.rstrip()}\n[timed out after {self.timeout_s:g}s]".strip()
        if res.memory_exceeded:
            return f"{out.rstrip()}\n[memory limit of {self.memory_mb} MB exceeded]".strip()
        if res.exit_code != 0:
            return f"{out.rstrip()}\n[exit code {res.exit_code}]\n{res.stderr[-MAX_OUTPUT_CHARS:]}".strip()
        return out if out.strip() else "(no output: print the values you want to see)"

    def score(self, episode: Episode) -> Verdict:
        final = next((m.get("content") or "" for m in reversed(episode.messages)
                      if m.get("role") == "assistant" and not m.get("tool_calls")), "")
        verdict = self.verifier(final if isinstance(final, str) else "", episode.task.answer)
        verdict.details["python_calls"] = sum(1 for c in self.calls(episode) if c.name == "python")
        return verdict

    def fixtures(self) -> list[Fixture]:
        task = self.tasks.get(0)
        ref = self.reference_for(task)
        wrong = str(int(task.answer) + 1) if task.answer.lstrip("-").isdigit() else "0"
        return [
            Fixture("reference: compute, then answer", ref, 1.0),
            Fixture("answer without the tool", [f"\\boxed{{{task.answer}}}"], 1.0),
            Fixture("wrong answer", [f"\\boxed{{{wrong}}}"], 0.0, kind="zero"),
            Fixture("tool then no answer", [ref[0], "I could not finish."], 0.0, kind="zero"),
            Fixture("arguments not JSON", [{"role": "assistant", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "python", "arguments": "{code"}}]}, "?"],
                0.0, kind="malformed"),
            Fixture("not a message", [42], 0.0, kind="malformed"),
        ]

    def close(self) -> None:
        if self._own_sandbox and self._sandbox is not None:
            sandbox, self._sandbox = self._sandbox, None
            _release_shared(sandbox)
        super().close()
