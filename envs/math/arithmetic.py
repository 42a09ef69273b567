"""``nemogym/Arithmetic-v0``: seeded arithmetic expressions with exact answers."""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction

from nemogym.envs.math.base import MathEnv

from nemogym.env import Fixture
from nemogym.tasks import ProceduralTasks, Task
from nemogym.verdict import Verdict

SYSTEM_PROMPT = (
    "Solve the arithmetic problem. Give the final answer as an integer or a reduced "
    "fraction p/q inside \\boxed{}."
)
_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def format_number(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _expression(rng: random.Random, n_operands: int, hi: int, fractions: bool) -> tuple[str, Fraction]:
    """A random expression over ``n_operands`` numbers, with its exact value."""
    if n_operands == 1:
        if fractions and rng.random() < 0.4:
            num, den = rng.randint(1, hi), rng.randint(2, max(2, hi // 2))
            return f"({num}/{den})", Fraction(num, den)  # bracketed: "a / (p/q)" is unambiguous
        v = rng.randint(0, hi)
        return str(v), Fraction(v)
    left_n = rng.randint(1, n_operands - 1)
    ls, lv = _expression(rng, left_n, hi, fractions)
    rs, rv = _expression(rng, n_operands - left_n, hi, fractions)
    ops = list(_OPS) + (["/"] if fractions and rv != 0 else [])
    op = rng.choice(ops)
    value = lv / rv if op == "/" else _OPS[op](lv, rv)
    return f"{_paren(ls, left_n)} {op} {_paren(rs, n_operands - left_n)}", value


def _paren(expr: str, n_operands: int) -> str:
    return f"({expr})" if n_operands > 1 else expr


def generate(rng: random.Random, difficulty: int) -> Task:
    """Difficulty d: d+1 operands up to 10*d; fractions and division from d >= 2."""
    d = max(1, int(difficulty))
    expr, value = _expression(rng, d + 1, 10 * d, fractions=d >= 2)
    answer = format_number(value)
    return Task(prompt=f"Compute {expr}.", answer=answer,
                reference=f"The answer is \\boxed{{{answer}}}.",
                metadata={"expression": expr, "difficulty": d})


class ArithmeticEnv(MathEnv):
    """Single-turn arithmetic, graded by the math verifier (``nemogym.verifiers.math``)."""

    system_prompt = SYSTEM_PROMPT

    def __init__(self, difficulty: int = 2,
                 verifier: Callable[[str, str], Verdict] | None = None,
                 verifier_options: dict | None = None, **kwargs):
        super().__init__(ProceduralTasks(generate, difficulty, name="arithmetic"),
                         verifier=verifier, verifier_options=verifier_options, **kwargs)

    def fixtures(self) -> list[Fixture]:
        task = self.tasks.get(0)
        wrong = format_number(Fraction(task.answer) + 1)
        return [
            Fixture("boxed reference", task.reference, 1.0),
            Fixture("plain final number", f"So we get {task.answer}", 1.0),
            Fixture("off by one", f"\\boxed{{{wrong}}}", 0.0, kind="zero"),
            Fixture("hedged", f"\\boxed{{{wrong}}} or \\boxed{{{task.answer}}}", 0.0, kind="zero"),
            Fixture("empty", "", 0.0, kind="zero"),
            Fixture("no content", {"role": "assistant"}, 0.0, kind="malformed"),
            Fixture("wrong type", 12345, 0.0, kind="malformed"),
        ]
