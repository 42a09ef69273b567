"""Number families: fraction arithmetic, percent word problems, modular arithmetic, combinatorics.

Every task's gold is computed exactly (``Fraction``/integers); word problems come from
templates whose numbers are drawn so that the answer is exact (whole cents, whole people).
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from nemogym.envs.math.base import ProceduralMathEnv, boxed, fmt, tex

from nemogym.tasks import Task


def _decimal(x: Fraction) -> str:
    """An exact terminating decimal: ``12.5``, ``40``, ``-0.25``."""
    if x.denominator == 1:
        return str(x.numerator)
    k = 0
    y = abs(x)
    while y.denominator != 1:
        if k >= 12:
            raise ValueError(f"{x} is not a terminating decimal")
        y *= 10
        k += 1
    digits = str(y.numerator).rjust(k + 1, "0")
    s = f"{digits[:-k]}.{digits[-k:]}".rstrip("0").rstrip(".")
    return ("-" if x < 0 else "") + s


# -- fractions ---------------------------------------------------------------------------------
def generate_fraction_arithmetic(rng: random.Random, difficulty: int) -> Task:
    """``difficulty + 1`` fractions joined by + - * / (left to right with parentheses)."""
    hi = 4 + 3 * difficulty
    terms = [Fraction(rng.randint(1, hi), rng.randint(2, hi)) for _ in range(difficulty + 1)]
    value = terms[0]
    expr = tex(terms[0])
    additive = False
    ops = ["+", "-"] + (["\\times", "\\div"] if difficulty >= 2 else [])
    for t in terms[1:]:
        op = rng.choice(ops)
        value = {"+": value + t, "-": value - t, "\\times": value * t, "\\div": value / t}[op]
        if op in ("+", "-"):
            additive = True
            expr = f"{expr} {op} {tex(t)}"
        else:  # evaluation is left to right: bracket a sum before multiplying it
            expr = f"\\left({expr}\\right) {op} {tex(t)}" if additive else f"{expr} {op} {tex(t)}"
            additive = False
    answer = fmt(value)
    prompt = f"Compute ${expr}$. Give the answer as a fraction in lowest terms (or an integer)."
    return Task(prompt=prompt, answer=answer, reference=boxed(tex(value)),
                metadata={"wrong": fmt(value + Fraction(1, 2)), "difficulty": difficulty})


class FractionArithmeticEnv(ProceduralMathEnv):
    """``nemogym/FractionArithmetic-v0``: sums, differences, products and quotients of fractions."""

    name = "fraction-arithmetic"
    generate = staticmethod(generate_fraction_arithmetic)


# -- percent word problems ---------------------------------------------------------------------
_ITEMS = ["jacket", "bicycle", "lamp", "backpack", "pair of shoes", "phone case", "tent"]
_NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hiro"]


def generate_percent_word(rng: random.Random, difficulty: int) -> Task:
    """Discounts, increases, percent-of, what-percent and reverse-percent problems."""
    kind = rng.randrange(5 if difficulty >= 2 else 3)
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    step = 5 if difficulty < 3 else 1
    pct = Fraction(rng.randrange(step, 100, step))
    if kind == 0:
        price = Fraction(rng.randint(2, 40 * difficulty) * 4)
        value = price * (1 - pct / 100)
        prompt = f"A {item} costs ${price}. It is on sale for {pct}% off. What is the sale price in dollars?"
    elif kind == 1:
        base = Fraction(rng.randint(2, 50 * difficulty) * 20)
        value = base * pct / 100
        prompt = f"What is {pct}% of {base}?"
    elif kind == 2:
        whole = rng.choice([20, 25, 40, 50, 80, 200, 400, 500])
        part = rng.randint(1, whole)
        value = Fraction(part * 100, whole)
        prompt = (f"{name} answered {part} of {whole} questions correctly. "
                  "What percent of the questions did they answer correctly?")
    elif kind == 3:
        # whole people: with any integer percent the town's size must be a multiple of 100
        old = Fraction(rng.randint(1, 30 * difficulty) * (20 if step == 5 else 100))
        value = old * (1 + pct / 100)
        prompt = (f"A town had {old} residents. The population grew by {pct}%. "
                  "How many residents does it have now?")
    else:
        value = Fraction(rng.randint(1, 25 * difficulty) * 20)
        pct = Fraction(rng.choice([20, 25, 40, 50, 60, 75, 80]))
        final = value * pct / 100
        prompt = (f"After spending {pct}% of their savings, {name} has spent ${_decimal(final)}. "
                  "How many dollars were in the savings at the start?")
    answer = _decimal(value)
    return Task(prompt=prompt, answer=answer, reference=boxed(answer),
                metadata={"wrong": _decimal(value + 1), "kind": kind, "difficulty": difficulty})


class PercentWordEnv(ProceduralMathEnv):
    """``nemogym/PercentWord-v0``: percent and money word problems from templates."""

    name = "percent-word"
    generate = staticmethod(generate_percent_word)


# -- modular arithmetic ------------------------------------------------------------------------
_PRIMES = [7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97]


def generate_modular(rng: random.Random, difficulty: int) -> Task:
    """Residues of products and powers, modular inverses, and linear congruences."""
    kind = rng.randrange(4 if difficulty >= 2 else 2)
    m = rng.choice(_PRIMES[: 6 + 3 * difficulty])
    if kind == 0:
        a, b = rng.randint(10, 10 ** (1 + difficulty)), rng.randint(10, 10 ** (1 + difficulty))
        value = (a * b) % m
        prompt = f"What is the remainder when ${a} \\times {b}$ is divided by ${m}$?"
    elif kind == 1:
        a, e = rng.randint(2, 20), rng.randint(5, 20 * difficulty)
        value = pow(a, e, m)
        prompt = f"Compute ${a}^{{{e}}} \\bmod {m}$."
    elif kind == 2:
        a = rng.randint(2, m - 1)
        value = pow(a, -1, m)
        prompt = f"Find the inverse of ${a}$ modulo ${m}$, as an integer $x$ with $0 \\le x < {m}$."
    else:
        a, b = rng.randint(2, m - 1), rng.randint(1, m - 1)
        value = (b * pow(a, -1, m)) % m
        prompt = f"Solve ${a}x \\equiv {b} \\pmod{{{m}}}$ for the integer $x$ with $0 \\le x < {m}$."
    return Task(prompt=prompt, answer=str(value), reference=boxed(str(value)),
                metadata={"wrong": str((value + 1) % m), "modulus": m, "difficulty": difficulty})


class ModularArithmeticEnv(ProceduralMathEnv):
    """``nemogym/ModularArithmetic-v0``: residues, powers, inverses and congruences."""

    name = "modular-arithmetic"
    generate = staticmethod(generate_modular)


# -- combinatorics -----------------------------------------------------------------------------
_WORDS = ["LEVEL", "BANANA", "APPLE", "COFFEE", "LETTER", "MISSISSIPPI", "STATISTICS", "BOOK", "GAMMA"]


def generate_combinatorics(rng: random.Random, difficulty: int) -> Task:
    """Committees (n choose k), ordered podiums, word arrangements, handshakes."""
    kind = rng.randrange(4)
    n = rng.randint(4, 6 + 3 * difficulty)
    k = rng.randint(2, min(n - 1, 2 + difficulty))
    if kind == 0:
        value = math.comb(n, k)
        prompt = f"In how many ways can a committee of {k} be chosen from {n} people?"
    elif kind == 1:
        value = math.perm(n, k)
        prompt = (f"{n} runners race. In how many ways can the first {k} places be awarded "
                  "(no ties)?")
    elif kind == 2:
        word = rng.choice(_WORDS[: 4 + difficulty])
        value = math.factorial(len(word))
        for c in set(word):
            value //= math.factorial(word.count(c))
        prompt = f"How many distinct arrangements of the letters of the word {word} are there?"
    else:
        value = math.comb(n, 2)
        prompt = f"At a party, each of {n} guests shakes hands with every other guest once. How many handshakes are there?"
    return Task(prompt=prompt, answer=str(value), reference=boxed(str(value)),
                metadata={"wrong": str(value + 1), "difficulty": difficulty})


class CombinatoricsEnv(ProceduralMathEnv):
    """``nemogym/Combinatorics-v0``: counting problems with exact integer answers."""

    name = "combinatorics"
    generate = staticmethod(generate_combinatorics)


__all__ = ["CombinatoricsEnv", "FractionArithmeticEnv", "ModularArithmeticEnv", "PercentWordEnv",
           "fmt", "tex"]
