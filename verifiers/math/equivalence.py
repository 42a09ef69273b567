"""Are two parsed answers the same? String, then numeric, then sympy (bounded), per structure.

Scalars: identical canonical text; else the fast evaluator (exact rationals, or floats within
``rel_tol``); with free symbols, evaluation at fixed sample points (a different value at any
point proves inequality; agreement at every point is polynomial-identity-style equality);
only what the evaluator cannot handle goes to sympy in a bounded worker process.
Collections: sets and bare lists ignore order, tuples and intervals keep it (and an interval's
brackets must match), matrices compare cell by cell, equations compare up to a nonzero
factor, inequalities up to a positive one, and single-variable inequalities equal intervals.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from nemogym.verifiers.math.normalize import (
    Choice,
    MatrixValue,
    Relation,
    Scalar,
    Seq,
    Text,
    Union,
    Value,
)
from nemogym.verifiers.math.numeric import (
    SYMBOL_POINTS,
    HasSymbols,
    TooLarge,
    Undecided,
    close,
    evaluate,
    symbols_of,
)

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NOT_VARS = {"E", "I", "pi", "oo"}
_FLIP = {">": "<", ">=": "<="}


@dataclass
class Context:
    """Options and the sympy time budget of one verification."""

    rel_tol: float = 1e-6
    percent: str = "strip"
    symbolic: bool = True
    deadline: float = 0.0
    undecided: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    def left(self) -> float:
        return self.deadline - time.monotonic()


def equal(a: Value, g: Value, ctx: Context) -> bool:
    """True when answer ``a`` equals gold ``g``; ``ctx.rules`` records what decided."""
    if isinstance(g, Choice) or isinstance(a, Choice):
        return isinstance(a, Choice) and isinstance(g, Choice) and _note(ctx, "choice", a.letter == g.letter)
    if isinstance(a, Text) or isinstance(g, Text):
        return isinstance(a, Text) and isinstance(g, Text) and _note(ctx, "text", a.text == g.text)
    a, g = _unwrap(a), _unwrap(g)
    if isinstance(a, Relation) and not isinstance(g, Relation):
        a = _unwrap(_rhs(a))
    if isinstance(g, Relation) and not isinstance(a, Relation):
        g = _unwrap(_rhs(g))
    if isinstance(a, Scalar) and isinstance(g, Scalar):
        return scalar_equal(a, g, ctx)
    if isinstance(a, Relation) and isinstance(g, Relation):
        return relation_equal(a, g, ctx)
    if isinstance(a, Relation):
        iv = relation_interval(a)
        return iv is not None and equal(iv, g, ctx)
    if isinstance(g, Relation):
        iv = relation_interval(g)
        return iv is not None and equal(a, iv, ctx)
    if isinstance(a, Union) or isinstance(g, Union):
        ai = a.items if isinstance(a, Union) or _is_or(a) else (a,)  # x < 2 or x > 3
        gi = g.items if isinstance(g, Union) or _is_or(g) else (g,)
        return _note(ctx, "union", _unordered(ai, gi, ctx))
    if isinstance(a, MatrixValue) or isinstance(g, MatrixValue):
        return _matrix_equal(a, g, ctx)
    if isinstance(a, Seq) and isinstance(g, Seq):
        return seq_equal(a, g, ctx)
    if isinstance(a, Seq):  # several values for one quantity: every one must be right
        if not a.items:  # an empty set/list is no value (all() of nothing would be True)
            return _note(ctx, "structure", False)
        if a.kind in ("or", "bare", "pm") and len({repr(x) for x in a.items}) > 1:
            ctx.rules.append("several answers for one value")
            return False
        return all(equal(x, g, ctx) for x in a.items)
    if isinstance(g, Seq):
        return False
    return False


def _is_or(v: Value) -> bool:
    return isinstance(v, Seq) and v.kind == "or"


def _note(ctx: Context, rule: str, ok: bool) -> bool:
    ctx.rules.append(rule)
    return ok


def _unwrap(v: Value) -> Value:
    while isinstance(v, Seq) and len(v.items) == 1 and v.kind != "tuple":
        v = v.items[0]
    return v


def _is_var(s: Value) -> bool:
    return isinstance(s, Scalar) and bool(_IDENT.match(s.text)) and s.text not in _NOT_VARS


def _rhs(r: Relation) -> Value:
    """``x = 3`` -> ``3`` (also ``x = 1 + 2 = 3`` -> ``3`` and ``3 = x`` -> ``3``)."""
    if all(op == "=" for op in r.ops):
        if _is_var(r.parts[0]):
            return r.parts[-1]
        if len(r.parts) == 2 and _is_var(r.parts[1]):
            return r.parts[0]
    return r


# -- scalars -------------------------------------------------------------------------------
def _variants(s: Scalar, mode: str) -> list[str]:
    if not s.percent or mode == "strip":
        return [s.text]
    frac = f"({s.text})/100"
    return [frac] if mode == "fraction" else [s.text, frac]


def scalar_equal(a: Scalar, g: Scalar, ctx: Context) -> bool:
    for ta in _variants(a, ctx.percent):
        for tg in _variants(g, ctx.percent):
            if text_equal(ta, tg, ctx):
                return True
    return False


def text_equal(ta: str, tg: str, ctx: Context) -> bool:
    if ta == tg:
        return _note(ctx, "string", True)
    try:
        va, ea = evaluate(ta)
        vg, eg = evaluate(tg)
        return _note(ctx, "numeric", close(va, vg, ea, eg, ctx.rel_tol))
    except HasSymbols:
        verdict = _points(ta, tg, ctx, lambda x, y: close(x, y, False, False, ctx.rel_tol))
    except TooLarge as e:
        ctx.undecided.append(f"too large to evaluate: {e}")
        return False
    except Undecided:
        verdict = None
    if verdict is not None:
        return _note(ctx, "symbolic-points", verdict)
    return _sympy(ta, tg, "equal", ctx)


def _points(ta: str, tg: str, ctx: Context, same) -> bool | None:
    """Compare at sample points: False at the first disagreement, True if >= 3 agree."""
    sa, sg = symbols_of(ta), symbols_of(tg)
    if sa is None or sg is None:
        return None
    names = sorted(sa | sg)
    agree = 0
    for k in range(len(SYMBOL_POINTS)):
        env = {n: complex(SYMBOL_POINTS[(k + j) % len(SYMBOL_POINTS)] + 0.173 * j)
               for j, n in enumerate(names)}
        try:
            va, _ = evaluate(ta, env)
            vg, _ = evaluate(tg, env)
        except Undecided:
            continue
        if not same(va, vg):
            return False
        agree += 1
    return True if agree >= 3 else None


MAX_SYMPY_CHARS = 3000


def _sympy(ta: str, tg: str, mode: str, ctx: Context) -> bool:
    if not ctx.symbolic:
        ctx.undecided.append("symbolic check disabled")
        return False
    if len(ta) + len(tg) > MAX_SYMPY_CHARS:
        ctx.undecided.append("expression too long for a symbolic check")
        return False
    left = ctx.left()
    if left <= 0.01:
        ctx.undecided.append("time budget spent")
        return False
    from nemogym.verifiers.math.timeout import sympy_equal

    res = sympy_equal(ta, tg, timeout_s=left, mode=mode, rel_tol=ctx.rel_tol)
    if res.ok is None:
        ctx.undecided.append(f"sympy: {res.why}")
        return False
    return _note(ctx, f"sympy-{res.why}", res.ok)


# -- relations -----------------------------------------------------------------------------
def _oriented(r: Relation) -> Relation:
    if all(op in _FLIP for op in r.ops):
        return Relation(tuple(_FLIP[o] for o in reversed(r.ops)), tuple(reversed(r.parts)))
    return r


def relation_equal(a: Relation, g: Relation, ctx: Context) -> bool:
    a, g = _oriented(a), _oriented(g)
    if a.ops != g.ops:
        return _note(ctx, "relation", False)
    if len(a.ops) > 1:
        return all(scalar_equal(x, y, ctx) for x, y in zip(a.parts, g.parts, strict=True))
    if all(isinstance(p, Scalar) for p in a.parts + g.parts):
        da = f"({a.parts[0].text})-({a.parts[1].text})"
        dg = f"({g.parts[0].text})-({g.parts[1].text})"
        if da == dg:
            return _note(ctx, "string", True)
        positive = a.ops[0] in ("<", "<=")
        return _proportional(da, dg, positive, ctx)
    return False


def _proportional(da: str, dg: str, positive: bool, ctx: Context) -> bool:
    ratios: list[complex] = []

    def same(x, y) -> bool:
        if abs(y) < 1e-12 or abs(x) < 1e-12:
            return abs(x) < 1e-12 and abs(y) < 1e-12
        ratios.append(complex(x) / complex(y))
        r0 = ratios[0]
        return close(ratios[-1], r0, False, False, ctx.rel_tol) and (
            not positive or (abs(r0.imag) < 1e-12 and r0.real > 0))

    verdict = _points(da, dg, ctx, same)
    if verdict is not None:
        return _note(ctx, "relation-points", verdict)
    return _sympy(da, dg, "ratio_pos" if positive else "ratio", ctx)


def relation_interval(r: Relation) -> Seq | None:
    """``x > 3`` -> ``(3, oo)``; ``1 < x <= 2`` -> ``(1, 2]``; None if not of that form."""
    r = _oriented(r)
    if any(op not in ("<", "<=") for op in r.ops):
        return None
    if len(r.parts) == 2 and _is_var(r.parts[0]):
        return Seq("tuple", (Scalar("-oo"), r.parts[1]), "(", "]" if r.ops[0] == "<=" else ")")
    if len(r.parts) == 2 and _is_var(r.parts[1]):
        return Seq("tuple", (r.parts[0], Scalar("oo")), "[" if r.ops[0] == "<=" else "(", ")")
    if len(r.parts) == 3 and _is_var(r.parts[1]):
        return Seq("tuple", (r.parts[0], r.parts[2]), "[" if r.ops[0] == "<=" else "(",
                   "]" if r.ops[1] == "<=" else ")")
    return None


# -- collections ---------------------------------------------------------------------------
_UNORDERED = ("set", "bare", "or", "pm")


def seq_equal(a: Seq, g: Seq, ctx: Context) -> bool:
    if g.kind in _UNORDERED:
        return _note(ctx, "set", _unordered(a.items, g.items, ctx))
    # gold is a tuple or an interval: order matters, and an interval's brackets too
    if a.kind == "set" or len(a.items) != len(g.items):
        return _note(ctx, "tuple", False)
    if len(g.items) == 2 and (a.left, a.right) != (g.left, g.right) and (
            a.kind == "tuple" or "[" in g.left or "]" in g.right):
        # an interval's brackets must match; a closed end needs brackets in the answer too
        return _note(ctx, "interval-brackets", False)
    return _note(ctx, "tuple", all(equal(x, y, ctx) for x, y in zip(a.items, g.items, strict=True)))


def _dedupe(items: tuple) -> list:
    seen, out = set(), []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def _unordered(ai: tuple, gi: tuple, ctx: Context) -> bool:
    """Same elements in any order: identical ones pair off first (linear), the rest pairwise,
    within the verification's time budget."""
    a_items, g_items = _dedupe(ai), _dedupe(gi)
    if len(a_items) != len(g_items):
        return False
    same = set(a_items) & set(g_items)
    a_left = [a for a in a_items if a not in same]
    g_left = [g for g in g_items if g not in same]
    used = [False] * len(a_left)
    for g in g_left:
        if ctx.left() <= 0:
            ctx.undecided.append("time budget spent matching elements")
            return False
        for k, a in enumerate(a_left):
            if not used[k] and equal(a, g, ctx):
                used[k] = True
                break
        else:
            return False
    return True


def _cells(v: Value) -> tuple[tuple, ...] | None:
    if isinstance(v, MatrixValue):
        return v.rows
    if isinstance(v, Seq) and v.kind in ("tuple", "bare"):
        return (v.items,)
    return None


def _matrix_equal(a: Value, g: Value, ctx: Context) -> bool:
    ra, rg = _cells(a), _cells(g)
    if ra is None or rg is None:
        return _note(ctx, "matrix", False)
    if not isinstance(a, MatrixValue) or not isinstance(g, MatrixValue):
        # a vector written as a tuple vs a one-row or one-column matrix
        fa = [c for row in ra for c in row]
        fg = [c for row in rg for c in row]
        if len(fa) != len(fg) or not (len(ra) == 1 or all(len(r) == 1 for r in ra)) or not (
                len(rg) == 1 or all(len(r) == 1 for r in rg)):
            return _note(ctx, "matrix", False)
        return _note(ctx, "matrix", all(equal(x, y, ctx) for x, y in zip(fa, fg, strict=True)))
    if len(ra) != len(rg) or any(len(x) != len(y) for x, y in zip(ra, rg, strict=True)):
        return _note(ctx, "matrix-shape", False)
    return _note(ctx, "matrix", all(equal(x, y, ctx) for rx, ry in zip(ra, rg, strict=True)
                                    for x, y in zip(rx, ry, strict=True)))
