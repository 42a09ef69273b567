"""LaTeX -> plain math text: ``\\frac{a}{b}`` -> ``(a)/(b)``, ``\\sqrt[3]{x}`` -> ``(x)^(1/(3))``.

A small recursive converter (no antlr, no sympy): it keeps the structure a tokenizer needs
(groups become parentheses, ``\\{ \\}`` become set braces, matrices become ``Matrix([[..]])``)
and drops what does not change the value (``\\left``, spacing, ``\\displaystyle``, text
wrappers). Nesting deeper than ``MAX_DEPTH`` raises ``LatexError`` instead of recursing on.
"""

from __future__ import annotations

import re

MAX_DEPTH = 60


class LatexError(ValueError):
    """The input is too deeply nested or otherwise unusable as math."""


FRACS = {"frac", "dfrac", "tfrac", "cfrac", "nicefrac"}
TEXTS = {"text", "textrm", "textbf", "textit", "textnormal", "textsf", "texttt", "mathrm",
         "mathbf", "mathit", "mathsf", "mathtt", "mathnormal", "operatorname", "mbox", "hbox",
         "boldsymbol", "bm", "mathbb", "mathcal", "mathfrak", "emph", "textup", "boxed", "fbox",
         "overline", "hat", "vec", "bar", "tilde", "underline", "widehat", "widetilde", "dot",
         "mathring", "displaystyle", "phantom"}
DROP = {"left", "right", "displaystyle", "textstyle", "scriptstyle", "big", "Big", "bigg",
        "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "limits",
        "nolimits", "middle", "quad", "qquad", ",", ";", ":", "!", " ", "enspace", "thinspace",
        "medspace", "thickspace", "negthinspace", "$", "hfill", "nonumber", "notag", "tag*",
        "angle", "measuredangle", "triangle"}
SYMBOLS = {
    "pi": " pi ", "infty": " oo ", "infinity": " oo ", "cdot": "*", "times": "*", "ast": "*",
    "div": "/", "pm": "±", "mp": "∓", "le": "<=", "leq": "<=", "leqslant": "<=", "ge": ">=",
    "geq": ">=", "geqslant": ">=", "ne": "!=", "neq": "!=", "lt": "<", "gt": ">",
    "approx": "=", "equiv": "=", "cup": " U ", "cap": " ∩ ", "in": " ∈ ", "circ": "°",
    "degree": "°", "emptyset": "{}", "varnothing": "{}", "ldots": "...", "cdots": "...",
    "dots": "...", "%": "%", "{": "{", "}": "}", "lbrace": "{", "rbrace": "}", "langle": "(",
    "rangle": ")", "lfloor": " floor(", "rfloor": ")", "lceil": " ceiling(", "rceil": ")",
    "&": " ", "_": "_", "#": "", "imath": " i ", "mid": "|", "vert": "|", "lvert": "|",
    "rvert": "|", "Vert": "|", "colon": ":", "prime": "'", "to": "->", "rightarrow": "->",
    "Rightarrow": "=>", "implies": "=>", "land": " and ", "lor": " or ", "wedge": " and ",
    "vee": " or ", "setminus": "\\", "backslash": "\\",
}
FUNCS = {"sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh",
         "cosh", "tanh", "ln", "log", "exp", "lg", "det", "gcd", "max", "min"}
_INVERTIBLE = {"sin", "cos", "tan"}
BINOMS = {"binom", "dbinom", "tbinom", "choose"}
MATRIX_ENVS = {"matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix"}

_CMD = re.compile(r"\\([a-zA-Z]+\*?|.)")
_DEGREE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\^\s*\{\s*°\s*\}|\^\s*°")
_ENV = re.compile(r"\\(begin|end)\s*\{([a-zA-Z*]+)\}")


_MIXED = re.compile(r"(?<![\w.}^])(\d+)\s*\\[dt]?frac\s*(?:\{(\d+)\}|(\d))\s*(?:\{(\d+)\}|(\d))")


def latex_to_plain(s: str) -> str:
    """Convert a LaTeX math string to plain math text (see the module docstring)."""
    s = _DEGREE.sub("°", s)
    # a mixed number: 3\frac{1}{3} is 3 + 1/3 (a number right before an integer fraction)
    s = _MIXED.sub(lambda m: f"({m.group(1)}+{m.group(2) or m.group(3)}/{m.group(4) or m.group(5)})", s)
    s = s.replace("{,}", "")
    return _Converter(s).run()


class _Converter:
    def __init__(self, s: str):
        self.s = s
        self.n = len(s)

    def run(self) -> str:
        out, _ = self.convert(0, self.n, 0)
        return out

    # -- scanning helpers ------------------------------------------------------------
    def match_brace(self, i: int, end: int) -> int:
        """Index of the ``}`` closing the ``{`` at ``i`` (``end`` if unbalanced)."""
        depth = 0
        s = self.s
        j = i
        while j < end:
            c = s[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        return end

    def read_arg(self, i: int, end: int, depth: int) -> tuple[str, int, str]:
        """One argument at ``i``: a braced group, a command or one character."""
        s = self.s
        while i < end and s[i] == " ":
            i += 1
        if i >= end:
            return "", i, ""
        if s[i] == "{":
            j = self.match_brace(i, end)
            text, _ = self.convert(i + 1, j, depth + 1)
            return text, min(j + 1, end), s[i + 1:j]
        if s[i] == "\\":
            m = _CMD.match(s, i)
            if m:
                text, k = self.command(m.group(1), m.end(), end, depth + 1)
                return text, k, s[i:k]
        return s[i], i + 1, s[i]

    def read_raw_group(self, i: int, end: int) -> tuple[str, int]:
        s = self.s
        while i < end and s[i] == " ":
            i += 1
        if i < end and s[i] == "{":
            j = self.match_brace(i, end)
            return s[i + 1:j], min(j + 1, end)
        if i < end:
            return s[i], i + 1
        return "", i

    # -- conversion ------------------------------------------------------------------
    def convert(self, i: int, end: int, depth: int) -> tuple[str, int]:
        if depth > MAX_DEPTH:
            raise LatexError(f"nesting deeper than {MAX_DEPTH}")
        s = self.s
        out: list[str] = []
        while i < end:
            c = s[i]
            if c == "\\":
                m = _CMD.match(s, i)
                if not m:
                    i += 1
                    continue
                text, i = self.command(m.group(1), m.end(), end, depth)
                out.append(text)
            elif c == "{":
                j = self.match_brace(i, end)
                inner, _ = self.convert(i + 1, j, depth + 1)
                # a bare {a, b} with a top-level comma is a set; otherwise a group
                if _has_top_comma(inner):
                    out.append("{" + inner + "}")
                else:
                    out.append("(" + inner + ")")
                i = min(j + 1, end)
            elif c == "}":
                i += 1
            elif c == "$":
                i += 1
            elif c == "~":
                out.append(" ")
                i += 1
            elif c == "_":
                raw, i = self.read_raw_group(i + 1, end)
                sub = re.sub(r"[^A-Za-z0-9]", "", raw)
                out.append("_" + sub if sub else "")
            else:
                out.append(c)
                i += 1
        return "".join(out), i

    def command(self, name: str, i: int, end: int, depth: int) -> tuple[str, int]:
        """Convert the command ``\\name`` whose arguments start at ``i``."""
        if name in FRACS:
            a, i, _ = self.read_arg(i, end, depth)
            b, i, _ = self.read_arg(i, end, depth)
            return f"(({a})/({b}))", i
        if name == "sqrt":
            k = i
            while k < end and self.s[k] == " ":
                k += 1
            index = None
            if k < end and self.s[k] == "[":
                close = self.s.find("]", k)
                if close == -1 or close >= end:
                    close = end
                index, _ = self.convert(k + 1, close, depth + 1)
                i = close + 1
            a, i, _ = self.read_arg(i, end, depth)
            if index:
                return f"(({a})^(1/({index})))", i
            return f" sqrt({a})", i
        if name in BINOMS:
            a, i, _ = self.read_arg(i, end, depth)
            b, i, _ = self.read_arg(i, end, depth)
            return f" binomial({a},{b})", i
        if name in ("text", "textrm", "mbox", "textnormal", "textup", "textit", "textbf", "texttt", "emph"):
            raw, i = self.read_raw_group(i, end)
            inner, _ = _Converter(raw).convert(0, len(raw), depth + 1)
            return f" {inner} ", i
        if name in TEXTS:
            a, i, _ = self.read_arg(i, end, depth)
            return a, i
        if name in ("begin", "end"):
            return self.environment(name, i, end, depth)
        if name in DROP:
            return ("" if name in ("left", "right", "!", "$") or name.startswith(("big", "Big"))
                    else " "), i
        if name in SYMBOLS:
            return SYMBOLS[name], i
        if name in FUNCS:
            return self.function(name, i, end, depth)
        if name == "\\":
            return ",", i
        if name in ("not",):
            return "!", i
        return f" {name} ", i

    def function(self, name: str, i: int, end: int, depth: int) -> tuple[str, int]:
        """``\\sin x``, ``\\sin^2 x``, ``\\log_2 8``, ``\\sin(x)`` -> ``sin(x)``, ``(sin(x))^(2)``."""
        s = self.s
        base = power = None
        for _ in range(2):
            while i < end and s[i] == " ":
                i += 1
            if i < end and s[i] == "^" and power is None:
                power, i, _ = self.read_arg(i + 1, end, depth)
            elif i < end and s[i] == "_" and base is None:
                base, i, _ = self.read_arg(i + 1, end, depth)
        while i < end and s[i] == " ":
            i += 1
        if i < end and s[i] == "(":
            close, level = i, 0
            for close in range(i, end):
                level += {"(": 1, ")": -1}.get(s[close], 0)
                if level == 0:
                    break
            arg, _ = self.convert(i + 1, close, depth + 1)
            i = close + 1
        elif i < end and (s[i].isdigit() or s[i] == "."):
            m = re.match(r"[\d.]+", s[i:end])
            arg = m.group(0)
            i += len(arg)
        else:
            arg, i, _ = self.read_arg(i, end, depth)
        if power is not None and power.strip() in ("-1", "(-1)") and name in _INVERTIBLE:
            name, power = "arc" + name, None  # \\tan^{-1} x is arctan x
        call = f" {name}({arg},{base})" if base is not None else f" {name}({arg})"
        return (f"({call})^({power})" if power is not None else call), i

    def environment(self, kind: str, i: int, end: int, depth: int) -> tuple[str, int]:
        env, i = self.read_raw_group(i, end)
        if kind == "end":
            return "", i
        close = self.s.find("\\end{" + env + "}", i, end)
        body_end = close if close != -1 else end
        after = close + len("\\end{" + env + "}") if close != -1 else end
        body = self.s[i:body_end]
        if env.rstrip("*") == "array" and body.lstrip().startswith("{"):
            _, skip = _Converter(body).read_raw_group(0, len(body))
            body = body[skip:]
        if env.rstrip("*") in MATRIX_ENVS or env.rstrip("*") == "array":
            rows = [r for r in re.split(r"\\\\", body) if r.strip() and not r.strip().startswith("\\hline")]
            conv_rows = []
            for r in rows:
                cells = [_Converter(c).convert(0, len(c), depth + 1)[0].strip() for c in r.split("&")]
                conv_rows.append("[" + ",".join(cells) + "]")
            return " Matrix([" + ",".join(conv_rows) + "]) ", after
        inner, _ = _Converter(body.replace("&", " ")).convert(0, len(body), depth + 1)
        return inner, after


def _has_top_comma(s: str) -> bool:
    depth = 0
    for c in s:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c in ",;" and depth == 0:
            return True
    return False
