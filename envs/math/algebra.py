"""Algebra families: linear equations, 2x2 linear systems, polynomial evaluation and roots.

Difficulty 1-5 widens the coefficient range and, from 3 on, allows fractional solutions
(linear equations), larger systems' coefficients, and higher-degree polynomials.
"""

from __future__ import annotations

import random
from fractions import Fraction

from nemogym.envs.math.base import ProceduralMathEnv, boxed, fmt, tex

from nemogym.tasks import Task


def _nonzero(rng: random.Random, lo: int, hi: int) -> int:
    while True:
        v = rng.randint(lo, hi)
        if v:
            return v


def _term(coef: int | Fraction, var: str, first: bool) -> str:
    """``3x``, ``- x``, ``+ 2y``: a signed linear term (coefficient 0 gives '')."""
    if coef == 0:
        return ""
    sign = "-" if coef < 0 else ("" if first else "+")
    mag = abs(coef)
    body = var if mag == 1 and var else f"{tex(mag)}{var}"
    return f"{sign} {body}".strip() if first else f" {sign} {body}"


def _linear(a: int, b: int, var: str = "x") -> str:
    s = _term(a, var, True)
    if b:
        s += _term(b, "", not s)
    return s or "0"


# -- linear equations ----------------------------------------------------------------------
def generate_linear_equation(rng: random.Random, difficulty: int) -> Task:
    """``a x + b = c x + d`` with a unique solution (fractional from difficulty 3)."""
    hi = 5 * difficulty
    while True:
        a, c = _nonzero(rng, -hi, hi), rng.randint(-hi, hi)
        if a != c:
            break
    if difficulty >= 3 and rng.random() < 0.5:
        x = Fraction(rng.randint(-hi, hi), rng.randint(2, 2 + difficulty))
    else:
        x = Fraction(rng.randint(-hi, hi))
    b = rng.randint(-3 * hi, 3 * hi)
    d = (a - c) * x + b  # a x + b = c x + d
    if d.denominator != 1:  # keep the equation's constants integers: scale both sides
        k = d.denominator
        a, b, c, d = a * k, b * k, c * k, d * k
    lhs, rhs = _linear(a, b), _linear(c, int(d))
    answer = fmt(x)
    return Task(prompt=f"Solve for $x$: ${lhs} = {rhs}$.", answer=answer, reference=boxed(f"x = {tex(x)}"),
                metadata={"wrong": fmt(x + 1), "difficulty": difficulty})


class LinearEquationEnv(ProceduralMathEnv):
    """``nemogym/LinearEquation-v0``: solve one linear equation in x."""

    name = "linear-equation"
    generate = staticmethod(generate_linear_equation)


# -- 2x2 systems -----------------------------------------------------------------------------
def generate_linear_system(rng: random.Random, difficulty: int) -> Task:
    """Two equations in x, y with a unique integer solution, answered as ``(x, y)``."""
    hi = 3 + 3 * difficulty
    x, y = rng.randint(-hi, hi), rng.randint(-hi, hi)
    while True:
        a, b, c, d = (_nonzero(rng, -hi // 2 - 1, hi // 2 + 1) for _ in range(4))
        if a * d - b * c != 0:
            break
    e, f = a * x + b * y, c * x + d * y
    eq1 = f"{_term(a, 'x', True)}{_term(b, 'y', False)} = {e}"
    eq2 = f"{_term(c, 'x', True)}{_term(d, 'y', False)} = {f}"
    answer = f"({x}, {y})"
    wrong = f"({y}, {x})" if x != y else f"({x + 1}, {y})"
    prompt = (f"Solve the system of equations\n$$\\begin{{cases}} {eq1} \\\\ {eq2} \\end{{cases}}$$\n"
              "Give the solution as an ordered pair $(x, y)$.")
    return Task(prompt=prompt, answer=answer, reference=boxed(answer),
                metadata={"wrong": wrong, "difficulty": difficulty})


class LinearSystemEnv(ProceduralMathEnv):
    """``nemogym/LinearSystem-v0``: a system of two linear equations in two unknowns."""

    name = "linear-system"
    generate = staticmethod(generate_linear_system)


# -- polynomials -------------------------------------------------------------------------------
def _poly_from_roots(roots: list[int], lead: int) -> list[int]:
    coeffs = [lead]
    for r in roots:  # multiply by (x - r)
        coeffs = [c1 - r * c0 for c0, c1 in zip([0] + coeffs, coeffs + [0], strict=True)]
    return coeffs  # highest degree first


def _poly_tex(coeffs: list[int]) -> str:
    deg = len(coeffs) - 1
    parts = []
    for k, c in enumerate(coeffs):
        p = deg - k
        if c == 0:
            continue
        var = "" if p == 0 else ("x" if p == 1 else f"x^{{{p}}}")
        mag = abs(c)
        body = var if mag == 1 and var else f"{mag}{var}"
        sign = "-" if c < 0 else "+"
        parts.append(("-" if c < 0 else "") + body if not parts else f" {sign} {body}")
    return "".join(parts) or "0"


def generate_polynomial(rng: random.Random, difficulty: int) -> Task:
    """Either evaluate ``p(a)`` or find all real roots (integer roots, degree 2..difficulty+1)."""
    deg = rng.randint(2, max(2, min(4, difficulty + 1)))
    if rng.random() < 0.5:
        coeffs = [_nonzero(rng, -4 * difficulty, 4 * difficulty)] + [
            rng.randint(-5 * difficulty, 5 * difficulty) for _ in range(deg)]
        at = rng.randint(-2 - difficulty, 2 + difficulty)
        value = sum(c * at ** (deg - k) for k, c in enumerate(coeffs))
        prompt = f"Let $p(x) = {_poly_tex(coeffs)}$. Compute $p({at})$."
        return Task(prompt=prompt, answer=str(value), reference=boxed(str(value)),
                    metadata={"wrong": str(value + 1), "kind": "evaluate", "difficulty": difficulty})
    hi = 2 + 2 * difficulty
    roots = sorted(rng.randint(-hi, hi) for _ in range(deg))
    lead = 1 if difficulty < 3 else _nonzero(rng, -3, 3)
    coeffs = _poly_from_roots(roots, lead)
    distinct = sorted(set(roots))
    answer = ", ".join(map(str, distinct))
    wrong = ", ".join(str(-r) for r in distinct) if any(r != 0 for r in distinct) else "1"
    if sorted(-r for r in distinct) == distinct:
        wrong = ", ".join(str(r + 1) for r in distinct)
    prompt = (f"Find all real roots of ${_poly_tex(coeffs)} = 0$. "
              "List each distinct root once, separated by commas.")
    return Task(prompt=prompt, answer=answer, reference=boxed(answer),
                metadata={"wrong": wrong, "kind": "roots", "roots": distinct, "difficulty": difficulty})


class PolynomialEnv(ProceduralMathEnv):
    """``nemogym/Polynomial-v0``: evaluate a polynomial, or find its (integer) roots."""

    name = "polynomial"
    generate = staticmethod(generate_polynomial)
