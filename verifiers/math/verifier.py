"""``verify(response, gold, **options) -> Verdict``: the math verifier's front door.

Reward is 1.0 or 0.0. ``details`` hold ``extracted`` (the answer found), ``extraction`` (the
rule that found it), ``answer_normalized``/``gold_normalized``, ``rule`` (what decided),
``reason`` when the reward is 0, and ``decided=False`` when the symbolic step could not
decide in time (a judge may then be asked, see ``nemogym.verifiers.judge``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from nemogym.verifiers.math.equivalence import Context, equal
from nemogym.verifiers.math.extract import MAX_RESPONSE_CHARS, Extraction, extract, find_boxed
from nemogym.verifiers.math.normalize import (
    MAX_ANSWER_CHARS,
    Choice,
    MatrixValue,
    Relation,
    Scalar,
    Seq,
    Text,
    Union,
    Value,
    choice_letter,
    parse_value,
)

from nemogym.verdict import Verdict

_GOLD_CHOICE = re.compile(r"^\s*(?:\\text\{)?\s*\(?([A-J])\)?\s*\}?\s*\.?\s*$")


@dataclass(frozen=True)
class MathOptions:
    """Options of ``verify`` (pass them as keyword arguments).

    rel_tol: relative tolerance of numeric comparison.
    timeout_s: total time for sympy steps in one verification (hard bound, worker process).
    percent: ``"strip"`` (50% == 50), ``"fraction"`` (50% == 0.5) or ``"either"``.
    last_number: fall back to the last number of the response when nothing else is found.
    answer_regex: a pattern tried after the built-in rules (group 1 if present).
    hedging: ``"reject"`` (several different final answers score 0) or ``"last"``.
    symbolic: allow sympy at all (False: string and numeric checks only).
    max_response_chars: only the tail of a longer response is read.
    """

    rel_tol: float = 1e-6
    timeout_s: float = 2.0
    percent: str = "strip"
    last_number: bool = True
    answer_regex: str | None = None
    hedging: str = "reject"
    symbolic: bool = True
    max_response_chars: int = MAX_RESPONSE_CHARS

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> MathOptions:
        known = {f.name for f in fields(cls)}
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"unknown math verifier option(s): {sorted(unknown)}; known: {sorted(known)}")
        opts = replace(_DEFAULT, **kwargs) if kwargs else _DEFAULT
        if opts.percent not in ("strip", "fraction", "either"):
            raise ValueError(f"percent must be strip, fraction or either, not {opts.percent!r}")
        if opts.hedging not in ("reject", "last"):
            raise ValueError(f"hedging must be reject or last, not {opts.hedging!r}")
        if isinstance(opts.answer_regex, str):
            try:
                re.compile(opts.answer_regex)
            except re.error as e:
                raise ValueError(f"answer_regex does not compile: {e}") from None
        return opts


_DEFAULT = MathOptions()


def gold_text(gold: Any) -> str:
    """The answer inside a gold field: ``#### 42`` solutions and ``\\boxed{}`` are unwrapped."""
    if isinstance(gold, list | tuple | set | frozenset):
        return ", ".join(gold_text(g) for g in gold)
    s = str(gold)
    if "####" in s:
        s = s.rsplit("####", 1)[1]
    elif "\\boxed" in s or "\\fbox" in s:
        boxed = find_boxed(s)
        if boxed:
            s = boxed[-1]
    return s.strip()


@lru_cache(maxsize=16384)
def parse_gold(gold: str) -> Value:
    """Parse (and cache) a gold answer; a lone letter A-J is a multiple-choice gold."""
    m = _GOLD_CHOICE.match(gold)
    if m:
        return Choice(m.group(1))
    return parse_value(gold)


@lru_cache(maxsize=16384)
def parse_answer(answer: str, choice: bool) -> Value:
    """Parse an extracted answer (a letter when the gold is a multiple-choice one)."""
    if choice:
        letter = choice_letter(answer)
        if letter is not None:
            return Choice(letter)
    return parse_value(answer)


def render(v: Value) -> str:
    """A readable normal form of a parsed value (for ``details``)."""
    if isinstance(v, Scalar):
        return v.text + ("%" if v.percent else "")
    if isinstance(v, Text):
        return f"text:{v.text}"
    if isinstance(v, Choice):
        return f"choice:{v.letter}"
    if isinstance(v, Seq):
        inner = ", ".join(render(x) for x in v.items)
        if v.kind == "set":
            return "{" + inner + "}"
        if v.kind == "tuple":
            return f"{v.left}{inner}{v.right}"
        return inner if v.kind == "bare" else f"{v.kind}[{inner}]"
    if isinstance(v, Union):
        return " U ".join(render(x) for x in v.items)
    if isinstance(v, MatrixValue):
        return "Matrix[" + "; ".join(", ".join(render(c) for c in r) for r in v.rows) + "]"
    if isinstance(v, Relation):
        out = render(v.parts[0])
        for op, p in zip(v.ops, v.parts[1:], strict=True):
            out += f" {op} {render(p)}"
        return out
    return repr(v)


_LETTER = re.compile(r"(?:^|[\s(*])\(?([A-J])\)(?=[\s.,:]|$)|^[ \t]*\**([A-J])[.:)]?\**[ \t]*$", re.M)


def _last_choice(text: str) -> str | None:
    """The one letter given as ``(B)``/``B)`` or on a line of its own, for multiple-choice
    golds, when the response marks no answer otherwise; several different letters: None."""
    found = [a or b for a, b in _LETTER.findall(text[-5000:])]
    if len(set(found)) != 1:
        return None  # none, or several letters with no marked answer: no answer (not a guess)
    return found[-1]


def _is_collection(v: Value) -> bool:
    return isinstance(v, Seq | Union) and not (isinstance(v, Seq) and len(v.items) == 1)


def verify(response: str, gold: Any, **options: Any) -> Verdict:
    """Reward 1.0 when the final answer of ``response`` equals ``gold``, else 0.0 (see module).

    Raises only for unknown or invalid options; a bug inside gives a masked verdict.
    """
    opts = MathOptions.from_kwargs(options)
    try:
        return _verify(response, gold, opts)
    except Exception as e:  # noqa: BLE001 - never raise out of a verification
        return Verdict.infra_failure(f"math verifier error: {type(e).__name__}: {e}")


def _verify(response: str, gold: Any, opts: MathOptions) -> Verdict:
    if not isinstance(response, str):
        return Verdict.wrong(f"response must be text, got {type(response).__name__}", extracted=None)
    if gold is None or (isinstance(gold, float) and gold != gold):  # null / NaN cell: no gold
        return Verdict.infra_failure("the gold answer is missing", gold=repr(gold))
    gtext = gold_text(gold)
    if not gtext:
        return Verdict.infra_failure("the gold answer is empty", gold=str(gold)[:200])
    found = extract(response, answer_regex=opts.answer_regex, last_number=opts.last_number,
                    max_chars=opts.max_response_chars)
    details: dict[str, Any] = {"extraction": found.rule, "gold": gtext[:500]}
    gval = parse_gold(gtext[:MAX_ANSWER_CHARS])
    choice = isinstance(gval, Choice)
    if choice and found.rule in ("last-number", "none"):
        letter = _last_choice(response[-opts.max_response_chars:])
        if letter:
            found = Extraction("choice-letter", [letter])
    if not found.candidates:
        return Verdict.wrong("no answer found", extracted=None, **details)
    details["extracted"] = found.answer[:500]
    ctx = Context(rel_tol=opts.rel_tol, percent=opts.percent, symbolic=opts.symbolic,
                  deadline=time.monotonic() + opts.timeout_s)
    distinct = list(dict.fromkeys(found.candidates))
    if opts.hedging == "last" or len(distinct) == 1:
        aval = parse_answer(distinct[-1][:MAX_ANSWER_CHARS], choice)
        ok = equal(aval, gval, ctx)
    else:
        values = [parse_answer(c[:MAX_ANSWER_CHARS], choice) for c in distinct]
        aval = Seq("bare", tuple(values))
        ok = all(equal(v, gval, ctx) for v in values)
        if not ok and _is_collection(gval):  # \boxed{-2} and \boxed{1} for the set {-2, 1}
            flat = tuple(x for v in values for x in (v.items if isinstance(v, Seq) else (v,)))
            ok = equal(Seq("bare", flat), gval, ctx)
            ctx.rules.append("boxes-combined")
        elif not ok:
            ctx.rules.append("hedging")
    details.update(answer_normalized=render(aval)[:500], gold_normalized=render(gval)[:500],
                   rule=ctx.rules[-1] if ctx.rules else "structure", decided=True)
    if ok:
        return Verdict(reward=1.0, details=details)
    if ctx.rules and ctx.rules[-1] == "hedging":
        reason = f"hedging: {len(distinct)} different final answers"
    elif ctx.undecided:
        reason = f"could not decide: {ctx.undecided[-1]}"
        details["decided"] = False
    elif ctx.rules and ctx.rules[-1] == "several answers for one value":
        reason = "hedging: several answers for one value"
    else:
        reason = "answer differs from gold"
    return Verdict.wrong(reason, **details)
