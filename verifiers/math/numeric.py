"""A small, bounded evaluator for canonical expressions (no sympy): exact where it can be.

``evaluate(text, env)`` walks the Python AST of a canonical expression and returns
``(value, exact)``: a ``Fraction`` computed exactly (integers, fractions, integer powers,
factorials, binomials) or a ``complex`` computed in floating point (roots, pi, trig, decimals).
Anything it cannot do safely and quickly (a power with a million digits, an unknown function,
a symbol missing from ``env``) raises ``Undecided``; it never builds huge numbers.
"""

from __future__ import annotations

import ast
import cmath
import math
from fractions import Fraction
from functools import lru_cache

Number = Fraction | complex
MAX_EXACT_BITS = 60_000
MAX_FACTORIAL = 3000
SYMBOL_POINTS = (0.5377, -1.3077, 2.1766, -0.4336, 1.7254, 0.3188)


class Undecided(Exception):
    """The fast evaluator cannot decide; the caller may try sympy."""


class TooLarge(Undecided):
    """The value is too large to build (a huge power or factorial): never equal to a gold."""


class HasSymbols(Undecided):
    """The expression has free symbols and no values were given for them."""


@lru_cache(maxsize=8192)
def compile_expr(text: str) -> tuple[ast.expr, frozenset[str]] | None:
    """The parsed tree of ``text`` and its free symbol names, or None if it does not parse."""
    if len(text) > 2000:
        return None
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in _CONSTS:
            names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS or node.keywords:
                return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            names.discard(node.func.id)
    return tree, frozenset(names)


def evaluate(text: str, env: dict[str, complex] | None = None) -> tuple[Number, bool]:
    """Evaluate canonical ``text``; raises ``Undecided`` (or ``HasSymbols``)."""
    compiled = compile_expr(text)
    if compiled is None:
        raise Undecided(f"cannot evaluate {text[:80]!r}")
    tree, names = compiled
    if names and (env is None or not names <= env.keys()):
        raise HasSymbols(", ".join(sorted(names)))
    try:
        return _ev(tree, env or {}, 0)
    except OverflowError as e:
        raise TooLarge(f"overflow: {e}") from None
    except Undecided:
        raise
    except Exception as e:  # noqa: BLE001 - bad arity, domain errors, ...: not decidable here
        raise Undecided(f"{type(e).__name__}: {e}") from None


def symbols_of(text: str) -> frozenset[str] | None:
    compiled = compile_expr(text)
    return None if compiled is None else compiled[1]


def close(a: Number, b: Number, exact_a: bool, exact_b: bool, rel_tol: float,
          abs_tol: float = 1e-12) -> bool:
    """Equal exactly when both are exact; two rationals (decimals) within ``rel_tol`` (no
    absolute slack: 1e-10 is not 2e-10); float results within ``rel_tol`` or ``abs_tol``
    (float noise such as sin(pi) = 1e-16 around zero)."""
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        if exact_a and exact_b:
            return a == b
        if (exact_a and a.denominator == 1) or (exact_b and b.denominator == 1):
            # a decimal does not approximate an integer: 123456.1 is not 123456 (123456.0 is;
            # the tiny tolerance absorbs binary noise such as 1.2 x 10^3)
            rel_tol = min(rel_tol, 1e-12)
        return abs(a - b) <= Fraction(rel_tol) * max(abs(a), abs(b))
    ca, cb = complex(a), complex(b)
    if any(math.isnan(v) for v in (ca.real, ca.imag, cb.real, cb.imag)):
        return False
    if any(math.isinf(v) for v in (ca.real, ca.imag, cb.real, cb.imag)):
        return ca == cb
    return abs(ca - cb) <= max(rel_tol * max(abs(ca), abs(cb)), abs_tol)


def _c(v: Number) -> complex:
    return complex(float(v)) if isinstance(v, Fraction) else v


def _real(v: Number) -> float:
    if isinstance(v, Fraction):
        return float(v)
    if abs(v.imag) > 1e-12 * max(1.0, abs(v.real)):
        raise ValueError("complex value where a real one is needed")
    return v.real


def _int(v: Number, exact: bool) -> int:
    if exact and isinstance(v, Fraction) and v.denominator == 1:
        return int(v)
    raise Undecided("an integer argument is needed")


def _pow(a: Number, ea: bool, b: Number, eb: bool) -> tuple[Number, bool]:
    if ea and eb and isinstance(b, Fraction) and b.denominator == 1 and isinstance(a, Fraction):
        e = int(b)
        bits = max(a.numerator.bit_length(), a.denominator.bit_length())
        if abs(e) * bits <= MAX_EXACT_BITS or a in (0, 1, -1):
            if a == 0 and e < 0:
                raise ZeroDivisionError("0 to a negative power")
            return a ** e, True
        raise TooLarge("power too large to evaluate")
    if ea and eb and isinstance(a, Fraction) and isinstance(b, Fraction) and a >= 0:
        # exact rational root when it exists: (p/q)^(m/n)
        n, m = b.denominator, b.numerator
        if n <= 8 and abs(m) <= 64:
            rn, rd = _iroot(a.numerator, n), _iroot(a.denominator, n)
            if rn is not None and rd is not None:
                return _pow(Fraction(rn, rd), True, Fraction(m), True)
    ca, cb = _c(a), _c(b)
    if ca != 0 and abs(cb.real * math.log10(abs(ca))) > 300:
        # beyond float range (10^400, 0.1^10000, e^-1000): never round to inf or to 0
        raise TooLarge("power out of float range")
    if ca.imag == 0 and cb.imag == 0 and ca.real >= 0:
        return complex(ca.real ** cb.real), False
    return ca ** cb, False


def _iroot(x: int, n: int) -> int | None:
    if x < 0:
        return None
    r = round(x ** (1.0 / n)) if x < 2**1000 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** n == x:
            return c
    return None


def _sqrt(v: Number, exact: bool) -> tuple[Number, bool]:
    if exact and isinstance(v, Fraction) and v >= 0:
        r = _pow(v, True, Fraction(1, 2), True)
        if r[1]:
            return r
    c = _c(v)
    if c.imag == 0 and c.real >= 0:
        return complex(math.sqrt(c.real)), False
    return cmath.sqrt(c), False


def _factorial(v: Number, exact: bool) -> tuple[Number, bool]:
    n = _int(v, exact)
    if not 0 <= n <= MAX_FACTORIAL:
        raise TooLarge("factorial out of range")
    return Fraction(math.factorial(n)), True


def _binomial(args: list[tuple[Number, bool]]) -> tuple[Number, bool]:
    n, k = (_int(v, e) for v, e in args)
    if not 0 <= n <= 100_000:
        raise TooLarge("binomial out of range")
    return Fraction(math.comb(n, k) if k >= 0 else 0), True


def _floor_ceil(fn):
    def f(args):
        (v, e), = args
        if e and isinstance(v, Fraction):
            return Fraction(fn(v)), True
        return Fraction(fn(_real(v))), True
    return f


def _cfunc(fn):
    def f(args):
        (v, _), = args
        return complex(fn(_c(v))), False
    return f


def _log(args):
    if len(args) == 1:
        v, _ = args[0]
        return cmath.log(_c(v)), False
    (v, _), (b, _) = args
    return cmath.log(_c(v)) / cmath.log(_c(b)), False


def _minmax(fn):
    def f(args):
        vals = [(_real(v), v, e) for v, e in args]
        best = fn(vals, key=lambda t: t[0])
        return best[1], best[2]
    return f


def _gcd(args):
    a, b = (_int(v, e) for v, e in args)
    return Fraction(math.gcd(a, b)), True


def _abs(args):
    (v, e), = args
    return (abs(v), True) if e and isinstance(v, Fraction) else (complex(abs(_c(v))), False)


_FUNCS = {
    "sqrt": lambda args: _sqrt(*args[0]),
    "factorial": lambda args: _factorial(*args[0]),
    "binomial": _binomial,
    "floor": _floor_ceil(math.floor),
    "ceiling": _floor_ceil(math.ceil),
    "Abs": _abs,
    "sin": _cfunc(cmath.sin), "cos": _cfunc(cmath.cos), "tan": _cfunc(cmath.tan),
    "cot": _cfunc(lambda z: 1 / cmath.tan(z)), "sec": _cfunc(lambda z: 1 / cmath.cos(z)),
    "csc": _cfunc(lambda z: 1 / cmath.sin(z)), "asin": _cfunc(cmath.asin),
    "acos": _cfunc(cmath.acos), "atan": _cfunc(cmath.atan), "sinh": _cfunc(cmath.sinh),
    "cosh": _cfunc(cmath.cosh), "tanh": _cfunc(cmath.tanh), "exp": _cfunc(cmath.exp),
    "log": _log, "max": _minmax(max), "min": _minmax(min), "gcd": _gcd,
}
_CONSTS = {"pi": (complex(math.pi), False), "E": (complex(math.e), False),
           "I": (1j, False), "oo": (complex(math.inf), False)}


def _ev(node: ast.expr, env: dict[str, complex], depth: int) -> tuple[Number, bool]:
    if depth > 200:
        raise Undecided("expression too deep")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise Undecided("not a number")
        return (Fraction(v), True) if isinstance(v, int) else (Fraction(v), False)
    if isinstance(node, ast.Name):
        if node.id in _CONSTS:
            return _CONSTS[node.id]
        return complex(env[node.id]), False
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v, e = _ev(node.operand, env, depth + 1)
        return (-v if isinstance(node.op, ast.USub) else v), e
    if isinstance(node, ast.BinOp):
        a, ea = _ev(node.left, env, depth + 1)
        b, eb = _ev(node.right, env, depth + 1)
        op = node.op
        if isinstance(op, ast.Pow):
            return _pow(a, ea, b, eb)
        exact = ea and eb
        if not (isinstance(a, Fraction) and isinstance(b, Fraction)):
            a, b = _c(a), _c(b)
            exact = False
        if isinstance(op, ast.Add):
            return a + b, exact
        if isinstance(op, ast.Sub):
            return a - b, exact
        if isinstance(op, ast.Mult):
            return a * b, exact
        if isinstance(op, ast.Div):
            return a / b, exact
        raise Undecided("unsupported operator")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_ev(a, env, depth + 1) for a in node.args]
        fn = _FUNCS[node.func.id]
        return fn(args)
    raise Undecided(f"unsupported syntax {type(node).__name__}")
