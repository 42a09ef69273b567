"""The simplest answer verifier: extract a final answer, compare exactly (numbers as fractions).

This is the seam the full math verifier (``nemogym.verifiers.math``) plugs into: any callable
``(response, gold) -> Verdict`` can replace ``verify`` in an env.
"""

from __future__ import annotations

import re
from fractions import Fraction

from nemogym.verdict import Verdict

_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_ANSWER = re.compile(r"answer\s*(?:is|:)\s*\$?([-+]?[\w./]+)", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d+(?:/\d+|\.\d+)?")
MAX_RESPONSE_CHARS = 100_000


def extract_answer(response: str) -> str | None:
    """The last ``\\boxed{}``, else the last "answer is X", else the last number."""
    text = response[-MAX_RESPONSE_CHARS:]
    for pattern in (_BOXED, _ANSWER, _NUMBER):
        found = pattern.findall(text)
        if found:
            return found[-1].strip()
    return None


def _as_number(s: str) -> Fraction | None:
    try:
        return Fraction(s.replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        return None


def verify(response: str, gold: str) -> Verdict:
    """Reward 1.0 if the extracted answer equals ``gold`` (as a number when both parse)."""
    answer = extract_answer(response)
    if answer is None:
        return Verdict.wrong("no answer found", extracted=None, gold=gold)
    a, g = _as_number(answer), _as_number(str(gold))
    same = (a == g) if a is not None and g is not None else answer.strip() == str(gold).strip()
    return Verdict(reward=1.0 if same else 0.0,
                   details={"extracted": answer, "gold": str(gold), "rule": "exact",
                            **({} if same else {"reason": "answer differs from gold"})})
