"""``MathEnv``: the single-turn math env every math family shares, scored by the math verifier.

A family supplies a ``generate(rng, difficulty) -> Task`` whose task carries ``answer`` (the
gold, in any form the verifier reads), ``reference`` (a full response that must score 1.0)
and ``metadata["wrong"]`` (a plausible wrong answer, for the zero-reward fixture).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from nemogym.verifiers.math import MathOptions
from nemogym.verifiers.math import verify as math_verify

from nemogym.env import Episode, Fixture, TaskEnv
from nemogym.tasks import ProceduralTasks, Task, TaskSource
from nemogym.verdict import Verdict

BOXED_SYSTEM_PROMPT = (
    "Solve the problem. Reason step by step, then give only the final answer inside "
    "\\boxed{}, exactly once."
)

Verifier = Callable[..., Verdict]


def fmt(x: Fraction | int) -> str:
    """An exact number as the gold string: ``3``, ``-7/2``."""
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def tex(x: Fraction | int) -> str:
    """An exact number in LaTeX: ``3``, ``-\\frac{7}{2}``."""
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    sign = "-" if x < 0 else ""
    return f"{sign}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"


def boxed(answer: str) -> str:
    return f"The final answer is \\boxed{{{answer}}}."


class MathEnv(TaskEnv):
    """Single-turn math: the response's final answer is checked by ``verifier`` against the gold.

    Args:
        tasks: the task source.
        verifier: ``(response, gold, **options) -> Verdict`` (default: the math verifier); a
            two-argument callable works too.
        verifier_options: keyword options for the verifier (``rel_tol``, ``percent``, ...).
    """

    system_prompt = BOXED_SYSTEM_PROMPT

    def __init__(self, tasks: TaskSource, *, verifier: Verifier | None = None,
                 verifier_options: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(tasks, **kwargs)
        self.verifier = verifier or math_verify
        self.verifier_options = dict(verifier_options or {})
        if self.verifier_options and not _takes_kwargs(self.verifier):
            raise TypeError("verifier_options given but the verifier takes no keyword options")
        if self.verifier is math_verify:
            MathOptions.from_kwargs(self.verifier_options)  # a bad option fails here, not per step

    async def averify(self, episode: Episode) -> Verdict:
        """Score the last assistant message; a rare sympy check runs off the event loop."""
        response = _last_assistant_text(episode)
        if self.verifier is math_verify and self.verifier_options.get("symbolic", True):
            quick = math_verify(response, episode.task.answer, **{**self.verifier_options, "symbolic": False})
            if quick.details.get("decided", True) is not False:
                return quick
            return await asyncio.to_thread(self.verify, episode.task, response)
        # A custom verifier (a judge, a user's function) may block: keep it off the event loop.
        return await asyncio.to_thread(self.verify, episode.task, response)

    def verify(self, task: Task, response: str) -> Verdict:
        if self.verifier_options:
            return self.verifier(response, task.answer, **self.verifier_options)
        return self.verifier(response, task.answer)

    def reference_for(self, task: Task) -> Any:
        return task.reference if task.reference is not None else boxed(str(task.answer))

    def fixtures(self) -> list[Fixture]:
        task = self.tasks.get(0)
        out = [Fixture("boxed reference", self.reference_for(task), 1.0)]
        wrong = task.metadata.get("wrong")
        if wrong is not None:
            out.append(Fixture("wrong answer", boxed(str(wrong)), 0.0, kind="zero"))
            out.append(Fixture("hedged: wrong and right", f"\\boxed{{{wrong}}} or maybe {self.reference_for(task)}",
                               0.0, kind="zero"))
        out += [
            Fixture("empty", "", 0.0, kind="zero"),
            Fixture("no content", {"role": "assistant"}, 0.0, kind="malformed"),
            Fixture("wrong type", 12345, 0.0, kind="malformed"),
        ]
        return out


class ProceduralMathEnv(MathEnv):
    """A ``MathEnv`` over seeded tasks from the class's ``generate`` and ``name``."""

    name = "math"
    generate: Callable[[Any, int], Task]

    def __init__(self, difficulty: int = 1, verifier: Verifier | None = None, **kwargs: Any):
        if not 1 <= int(difficulty) <= 5:
            raise ValueError(f"difficulty must be 1..5, got {difficulty}")
        gen = type(self).generate
        super().__init__(ProceduralTasks(gen, int(difficulty), name=self.name),
                         verifier=verifier, **kwargs)


def _last_assistant_text(episode: Episode) -> str:
    for m in reversed(episode.messages):
        if m.get("role") == "assistant":
            c = m.get("content")
            return c if isinstance(c, str) else ""
    return ""


def _takes_kwargs(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in params) or len(list(params)) > 2
