"""Answer text -> a structured value (scalar, set, tuple, interval, matrix, relation, choice, text).

``parse_value(s)`` runs: unicode clean-up, LaTeX -> plain text (``latex.py``), tokenising,
unit-word stripping, then the structure at the top level, in this order: ``or``/``and``
alternatives, ``x \\in S``, interval unions, bracketed sequences, bare comma lists, matrices,
relations (``=``, ``<``, ``\\le``, ...), and finally a scalar whose ``text`` is canonical
Python/sympy syntax (explicit ``*``, ``**``, ``sqrt(..)``, ``pi``, ``E``, ``I``, ``oo``).
Every value is an immutable dataclass, so parsed gold answers can be cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from nemogym.verifiers.math.latex import LatexError, latex_to_plain
from nemogym.verifiers.math.tokens import CONNECTIVES, ParseError, Tok, canonical, tokenize

MAX_ANSWER_CHARS = 4000

_UNICODE = {"−": "-", "–": "-", "—": "-", "×": "*", "·": "*", "⋅": "*", "÷": "/", "π": "pi",
            "√": "sqrt", "∞": "oo", "≤": "<=", "≥": ">=", "≠": "!=", "∪": " U ", "²": "^2",
            "³": "^3", "½": "(1/2)", "¼": "(1/4)", "¾": "(3/4)", "\u00a0": " ", "\u2009": " ",
            "\u202f": " ", "′": "'", "’": "'", "…": "...", "⁄": "/", "∶": ":"}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+)(?![\d,]|\.\d*,)")
_THOUSANDS_SPACE = re.compile(r"(?<![\d.])(\d{1,3}(?:\\[,;!: ]|\\thinspace ?|\s)(\d{3})(?:(?:\\[,;!: ]|\s)\d{3})*)(?![\d])")
_OPENERS, _CLOSERS = "([{", ")]}"
_RELATIONS = {"=", "==", "<", ">", "<=", ">=", "!="}


# -- values --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scalar:
    """One expression in canonical sympy/Python syntax; ``percent``: it carried a ``%``."""

    text: str
    percent: bool = False


@dataclass(frozen=True)
class Text:
    """A non-math answer (words), compared case- and space-insensitively."""

    text: str


@dataclass(frozen=True)
class Choice:
    """A multiple-choice letter."""

    letter: str


@dataclass(frozen=True)
class Seq:
    """Several values: ``kind`` is set, tuple (also intervals), bare (a comma list), or
    (alternatives joined by or/and) or pm (from ``a \\pm b``); ``left``/``right`` brackets."""

    kind: str
    items: tuple
    left: str = ""
    right: str = ""


@dataclass(frozen=True)
class Union:
    """A union of intervals."""

    items: tuple


@dataclass(frozen=True)
class MatrixValue:
    rows: tuple


@dataclass(frozen=True)
class Relation:
    """A chain ``parts[0] ops[0] parts[1] ...`` (equations and inequalities)."""

    ops: tuple
    parts: tuple


Value = Scalar | Text | Choice | Seq | Union | MatrixValue | Relation


# -- text clean-up -------------------------------------------------------------------------
def to_plain(s: str) -> str:
    """Unicode and LaTeX clean-up: the plain text the tokenizer reads."""
    s = s[:MAX_ANSWER_CHARS]
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s)
    s = s.replace("\\$", " ").replace("$", " ").replace("\\(", " ").replace("\\)", " ")
    s = s.replace("\\[", " ").replace("\\]", " ")
    s = _THOUSANDS_SPACE.sub(lambda m: re.sub(r"\\[,;!: ]|\\thinspace ?|\s", "", m.group(1)), s)
    if "overline" in s:
        s = _REPEATING.sub(_repeating, s)
    if "\\" in s or "{" in s or "^" in s:
        s = latex_to_plain(s)
    if "|" in s:
        s = _ABS.sub(r" Abs(\1)", s)
    s = _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), s)
    s = s.strip().rstrip(".").strip()
    return s


_REPEATING = re.compile(r"(\d*)\.(\d*)\\overline\s*\{(\d{1,20})\}")
_ABS = re.compile(r"\|([^|]{1,400})\|")


def _repeating(m: re.Match) -> str:
    """``0.1\\overline{6}`` -> ``(1/6)``: a repeating decimal as an exact fraction."""
    whole, fixed, rep = m.group(1) or "0", m.group(2), m.group(3)
    value = Fraction(int(whole)) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
    value += Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed))
    return f"({value.numerator}/{value.denominator})"


def choice_letter(s: str) -> str | None:
    """``(B)``, ``B``, ``B) 12``, ``B. 12``, ``option B`` -> ``B``; otherwise None."""
    s = s.strip()
    m = re.match(r"(?:\\text\{|\\textbf\{|\\mathrm\{)?[ \t]*(?:option|choice|answer)?[ \t:]*"
                 r"\(?([A-J])\)?\}?(?:$|[ \t]*[.:)\]}]|\s+\S)", s[:200], re.IGNORECASE)
    if not m:
        return None
    letter = m.group(1)
    rest = s[m.end():]
    if letter.islower() and not re.match(r"^\s*\(", s):
        return None  # a bare lower-case letter is a variable, not a choice
    if re.search(r"(?<![A-Za-z\\])[A-J](?![A-Za-z])", rest):
        return None  # another letter: "(A) or (B)", "A B C D" is hedging, not a choice
    return letter.upper()


def parse_value(s: str) -> Value:
    """Parse an answer string; unparseable text becomes ``Text`` (compared literally)."""
    try:
        plain = to_plain(s)
        tokens = tokenize(plain)
        return _build(tokens)
    except (LatexError, ParseError, RecursionError):
        return Text(_text_key(s))


def _text_key(s: str) -> str:
    s = re.sub(r"\\[a-zA-Z]+\s*\{([^{}]*)\}", r"\1", s[:MAX_ANSWER_CHARS])
    s = re.sub(r"[\s$\\{}.]+", " ", s.lower())
    return s.strip()


# -- structure -----------------------------------------------------------------------------
def _split_top(toks: list[Tok], seps: set[str], kinds: tuple[str, ...] = ("op",)) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "op" and t.text in _OPENERS:
            depth += 1
        elif t.kind == "op" and t.text in _CLOSERS:
            depth -= 1
        if depth == 0 and t.kind in kinds and t.text in seps:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _outer_span(toks: list[Tok]) -> bool:
    """True when the first token opens a bracket that the last token closes."""
    if len(toks) < 2 or toks[0].text not in _OPENERS or toks[-1].text not in _CLOSERS:
        return False
    if toks[0].kind != "op" or toks[-1].kind != "op":
        return False
    depth = 0
    for k, t in enumerate(toks):
        if t.kind == "op" and t.text in _OPENERS:
            depth += 1
        elif t.kind == "op" and t.text in _CLOSERS:
            depth -= 1
            if depth == 0 and k != len(toks) - 1:
                return False
    return depth == 0


def _strip_units(toks: list[Tok]) -> list[Tok]:
    """Drop trailing unit words: ``5 cm^2``, ``12 dollars``, ``3 m/s`` -> the number."""
    k = len(toks)
    seen_word = False
    while k > 0:
        t = toks[k - 1]
        if t.kind in ("word", "unit") and t.text not in CONNECTIVES and t.text != "U":
            if t.text.lower() in SCALE_WORDS:
                break  # "5 million" is not 5: _scalar multiplies it out
            seen_word = True
            k -= 1
        elif t.kind == "num" and k >= 3 and toks[k - 2].text == "^" and toks[k - 3].kind in ("word", "unit"):
            k -= 2
        elif t.kind == "op" and t.text in ("/", "*", ".") and seen_word and k >= 2 and toks[k - 2].kind in ("word", "unit"):
            k -= 1
        else:
            break
    if not seen_word or k == 0:
        return toks
    last = toks[k - 1]
    first_unit = toks[k]
    if last.kind == "num" or (last.kind == "op" and last.text in ")%°") or last.kind == "const" or (
            last.kind == "word" and last.text.lower() in SCALE_WORDS):
        if first_unit.kind == "word" or first_unit.space_before or first_unit.kind == "unit":
            return toks[:k]
    return toks


def _build(toks: list[Tok]) -> Value:
    if not toks:
        raise ParseError("empty answer")
    # "x = 1 or x = 2", "3 and 4": alternatives
    parts = _split_top(toks, CONNECTIVES, ("word",))
    if len(parts) > 1:
        items = tuple(_build(p) for p in parts if p)
        if not items:
            raise ParseError("connectives with no values")
        return items[0] if len(items) == 1 else Seq("or", items)
    # "x \in [1, 2)": the set after the membership sign
    for k, t in enumerate(toks):
        if t.kind == "op" and t.text == "∈" and k <= 2:
            return _build(toks[k + 1:])
    parts = _split_top(toks, {"U"}, ("word",))
    if len(parts) > 1:
        return Union(tuple(_build(p) for p in parts))
    if _outer_span(toks):
        inner = toks[1:-1]
        items = _split_top(inner, {",", ";"})
        left, right = toks[0].text, toks[-1].text
        if left == "{":
            return Seq("set", tuple(_build(p) for p in items if p))
        if len(items) > 1:
            return Seq("tuple", tuple(_build(p) for p in items), left, right)
        if inner:
            return _build(inner)
        raise ParseError("empty brackets")
    items = _split_top(toks, {",", ";"})
    if len(items) > 1:
        if not any(items):
            raise ParseError("separators with no values")
        return Seq("bare", tuple(_build(p) for p in items if p))
    if toks[0].kind == "func" and toks[0].text == "Matrix":
        return _matrix(toks)
    rel = _relation(toks)
    if rel is not None:
        return rel
    return _scalar(toks)


def _matrix(toks: list[Tok]) -> Value:
    # Matrix ( [ [a,b] , [c,d] ] )
    body = toks[2:-1]
    if not _outer_span(body):
        raise ParseError("bad matrix")
    rows = []
    for row in _split_top(body[1:-1], {","}):
        if not _outer_span(row):
            raise ParseError("bad matrix row")
        rows.append(tuple(_build(c) for c in _split_top(row[1:-1], {","})))
    return MatrixValue(tuple(rows))


def _relation(toks: list[Tok]) -> Relation | None:
    parts: list[list[Tok]] = [[]]
    ops: list[str] = []
    depth = 0
    for t in toks:
        if t.kind == "op" and t.text in _OPENERS:
            depth += 1
        elif t.kind == "op" and t.text in _CLOSERS:
            depth -= 1
        if depth == 0 and t.kind == "op" and t.text in _RELATIONS:
            ops.append(t.text)
            parts.append([])
        else:
            parts[-1].append(t)
    if not ops:
        return None
    if any(not p for p in parts):
        raise ParseError("relation with an empty side")
    if _is_function_notation(parts[0]):  # f(x) = 2x + 1: the name stands for the variable
        parts[0] = parts[0][:1]
    return Relation(tuple(ops), tuple(_scalar(p) for p in parts))


def _is_function_notation(toks: list[Tok]) -> bool:
    if len(toks) < 4 or toks[0].kind != "id" or toks[1].text != "(" or toks[-1].text != ")":
        return False
    return all(t.kind == "id" or t.text == "," for t in toks[2:-1])


#: Number words that scale the number before them ("2.5 million" is 2500000).
SCALE_WORDS = {"hundred": "100", "thousand": "1000", "million": "1000000",
               "billion": "1000000000", "trillion": "1000000000000"}


def _scalar(toks: list[Tok]) -> Value:
    toks = _strip_units(toks)
    if len(toks) >= 2 and toks[-1].kind == "word" and toks[-1].text.lower() in SCALE_WORDS and (
            toks[-2].kind == "num" or toks[-2].text == ")"):
        toks = [*toks[:-1], Tok("op", "*", True), Tok("num", SCALE_WORDS[toks[-1].text.lower()], True)]
    words = [t for t in toks if t.kind == "word"]
    if words:
        raise ParseError(f"words in a math answer: {words[0].text}")
    percent = any(t.text == "%" for t in toks if t.kind == "op")
    toks = [t for t in toks if not (t.kind == "op" and t.text in ("%", "°")) and t.kind != "unit"]
    if not toks:
        raise ParseError("empty answer")
    text = canonical(toks)
    if "±" in text or "∓" in text:  # a ± b: the two values a + b and a - b, wherever it sits
        first = "+" if text.find("±") != -1 and (text.find("∓") == -1 or text.find("±") < text.find("∓")) else "-"
        plus = _pm_fix(text.replace("±", "+").replace("∓", "-"))
        minus = _pm_fix(text.replace("±", "-").replace("∓", "+"))
        items = (plus, minus) if first == "+" else (minus, plus)
        return Seq("pm", tuple(Scalar(t, percent) for t in items))
    return Scalar(text, percent)


def _pm_fix(text: str) -> str:
    """``+-x`` / ``(+x`` left by a leading ``±``: tidy so that both forms parse and compare."""
    text = text.replace("+-", "-").replace("-+", "-").replace("--", "+").replace("++", "+")
    text = text.replace("(+", "(").replace(",+", ",")
    return text[1:] if text.startswith("+") else text
