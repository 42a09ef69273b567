"""Tokens and canonical text: the lexical half of ``normalize``.

``tokenize`` splits plain math text into numbers, identifiers (functions, constants, single
-letter symbols, words, units) and operators; ``canonical`` turns a token list into canonical
Python/sympy syntax: explicit ``*`` for implicit products, ``**`` for ``^``,
``factorial(..)`` for ``!``, ``sqrt(2)`` for ``sqrt 2``, and no redundant parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FUNCS = {"sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "sinh",
         "cosh", "tanh", "log", "exp", "binomial", "factorial", "floor", "ceiling", "Abs",
         "Matrix", "gcd", "max", "min"}
FUNC_ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "abs": "Abs",
                "ceil": "ceiling", "lg": "log", "Max": "max", "Min": "min", "lcm": "lcm"}
CONSTS = {"pi": "pi", "oo": "oo", "infty": "oo", "infinity": "oo", "inf": "oo", "e": "E",
          "E": "E", "i": "I", "I": "I"}
GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
         "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
         "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
         "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega"}
CONNECTIVES = {"or", "and"}
UNITS = {"m", "cm", "mm", "km", "g", "kg", "mg", "s", "ms", "h", "hr", "hrs", "min", "mins",
         "L", "mL", "ml", "ft", "in", "yd", "mi", "lb", "lbs", "oz", "mph", "kph", "sq", "cu",
         "deg", "rad", "USD"}
_TOKEN = re.compile(r"""
 (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)
|(?P<id>[A-Za-z]+(?:_[A-Za-z0-9]+)?)
|(?P<op>\*\*|<=|>=|!=|==|=>|->|\.\.\.|[-+*/^()\[\]{},;=<>!%°±∓∈∩|':&])
|(?P<ws>\s+)
|(?P<other>.)
""", re.VERBOSE)


class ParseError(ValueError):
    """The text is not a math answer this parser understands."""


@dataclass(frozen=True)
class Tok:
    """One token: ``kind`` says what it is, ``space_before`` whether whitespace preceded it."""

    kind: str  # num | id | func | const | word | op
    text: str
    space_before: bool = False


def tokenize(s: str) -> list[Tok]:
    """Plain math text -> tokens; a character no answer contains (quotes, ``?``) raises."""
    toks: list[Tok] = []
    space = False
    for m in _TOKEN.finditer(s):
        kind = m.lastgroup
        text = m.group(0)
        if kind == "ws":
            space = True
            continue
        if kind == "num":
            toks.append(Tok("num", _number(text), space))
        elif kind == "id":
            toks.extend(_classify_ident(text, space))
        elif kind == "op":
            toks.append(Tok("op", "=" if text == "==" else text, space))
        elif text in "\"`?":
            raise ParseError(f"unexpected character {text!r}")
        else:
            toks.append(Tok("op", text, space))
        space = False
    return toks


def _number(text: str) -> str:
    """``042`` -> ``42``, ``5.`` -> ``5``, ``.5`` -> ``0.5`` (valid Python literals)."""
    text = text.rstrip(".")
    mant, e, exp = text.partition("e") if "e" in text else text.partition("E")
    whole, dot, frac = mant.partition(".")
    whole = whole.lstrip("0") or "0"
    return whole + dot + frac + (("e" + exp) if e else "")


def _classify_ident(text: str, space: bool) -> list[Tok]:
    base, _, sub = text.partition("_")
    if text in FUNCS or text in FUNC_ALIASES:
        return [Tok("func", FUNC_ALIASES.get(text, text), space)]
    if text in CONSTS:
        return [Tok("const", CONSTS[text], space)]
    if text in GREEK:
        return [Tok("id", "lamda" if text == "lambda" else text, space)]
    if text in CONNECTIVES or text == "U":
        return [Tok("word", text, space)]
    if sub:
        return [Tok("id", text, space)]
    if text.lower() in UNITS or text in UNITS:
        return [Tok("unit", text, space)]
    if len(text) >= 3:
        return [Tok("word", text, space)]
    # two letters: implicit product of single-letter symbols
    return [Tok("const", CONSTS[c], space and k == 0) if c in "ie" else Tok("id", c, space and k == 0)
            for k, c in enumerate(text)]


_ATOM_END = ("num", "id", "const")
_ATOM_START = ("num", "id", "const", "func")


def canonical(toks: list[Tok]) -> str:
    """Tokens -> canonical text: explicit ``*``, ``**``, ``factorial()``, no redundant parens."""
    toks = _call_parens(toks)
    out: list[str] = []
    kinds: list[str] = []  # parallel to out: atom | open | close | op | func
    depth_stack: list[int] = []
    for t in toks:
        if t.kind == "op" and t.text == "!":
            _wrap_factorial(out, kinds)
            continue
        if t.kind == "op" and t.text in ("^", "**"):
            out.append("**")
            kinds.append("op")
            continue
        if t.kind == "op" and t.text in ("[", "{"):
            t = Tok("op", "(")
        elif t.kind == "op" and t.text in ("]", "}"):
            t = Tok("op", ")")
        prev = kinds[-1] if kinds else None
        starts_atom = t.kind in _ATOM_START or (t.kind == "op" and t.text == "(")
        if prev in ("atom", "close") and starts_atom:
            out.append("*")
            kinds.append("op")
        if t.kind == "op" and t.text == "(":
            depth_stack.append(len(out))
            out.append("(")
            kinds.append("open")
        elif t.kind == "op" and t.text == ")":
            if depth_stack:
                start = depth_stack.pop()
                inner = out[start + 1:]
                before = kinds[start - 1] if start > 0 else None
                if len(inner) == 1 and kinds[start + 1] == "atom" and before != "func":
                    out[start:] = inner
                    kinds[start:] = ["atom"]
                    continue
            out.append(")")
            kinds.append("close")
        elif t.kind == "func":
            out.append(t.text)
            kinds.append("func")
        elif t.kind in _ATOM_END:
            out.append(t.text)
            kinds.append("atom")
        elif t.kind == "op" and t.text in ("+", "-", "*", "/", ",", "±", "∓"):
            out.append(t.text)
            kinds.append("op")
        else:
            raise ParseError(f"unexpected {t.text!r}")
    while len(kinds) >= 2 and kinds[0] == "open" and kinds[-1] == "close" and _one_group(kinds):
        out, kinds = out[1:-1], kinds[1:-1]
    return "".join(out)


def _one_group(kinds: list[str]) -> bool:
    """True when the first ``(`` closes at the very end."""
    depth = 0
    for k, kind in enumerate(kinds):
        depth += (kind == "open") - (kind == "close")
        if depth == 0:
            return k == len(kinds) - 1
    return False


def _call_parens(toks: list[Tok]) -> list[Tok]:
    """``sqrt 2`` / ``sqrt2`` -> ``sqrt(2)``: a function name followed by a bare atom."""
    out: list[Tok] = []
    k = 0
    while k < len(toks):
        t = toks[k]
        out.append(t)
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if t.kind == "func" and nxt is not None and nxt.kind in ("num", "id", "const"):
            out.extend([Tok("op", "("), nxt, Tok("op", ")")])
            k += 2
            continue
        k += 1
    return out


def _wrap_factorial(out: list[str], kinds: list[str]) -> None:
    if not out:
        raise ParseError("factorial of nothing")
    if kinds[-1] == "atom":
        out[-1:] = [f"factorial({out[-1]})"]
        return
    if kinds[-1] == "close":
        depth = 0
        for k in range(len(out) - 1, -1, -1):
            if kinds[k] == "close":
                depth += 1
            elif kinds[k] == "open":
                depth -= 1
                if depth == 0:
                    start = k - 1 if k > 0 and kinds[k - 1] == "func" else k
                    group = "".join(out[start:])
                    out[start:] = [f"factorial({group})"]
                    kinds[start:] = ["atom"]
                    return
    raise ParseError("bad factorial")
