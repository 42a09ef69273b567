"""Compare a program's captured stdout with the expected output, on the host.

``outputs_match(got, expected, mode, float_tol)`` returns ``(ok, why)``: ``why`` says where
the first difference is, short enough to show a model as feedback.
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


def _is_number(token: str) -> bool:
    return _NUMBER.fullmatch(token) is not None


def _close(a: str, b: str, tol: float) -> bool:
    if a == b:
        return True
    if not (_is_number(a) and _is_number(b)):
        return False
    if _INTEGER.fullmatch(a) and _INTEGER.fullmatch(b):
        return int(a) == int(b)  # integers are exact: a count off by 999 in 10^9 is wrong
    x, y = float(a), float(b)
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    return abs(x - y) <= tol or abs(x - y) <= tol * max(abs(x), abs(y))


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def outputs_match(got: str, expected: str, mode: str = "whitespace",
                  float_tol: float = 1e-6) -> tuple[bool, str | None]:
    """Whether ``got`` matches ``expected`` under ``mode`` (exact | whitespace | float)."""
    if mode == "exact":
        if got == expected:
            return True, None
        for i, (a, b) in enumerate(zip(got, expected, strict=False)):
            if a != b:
                return False, f"first difference at character {i}: got {got[i:i + 20]!r}, expected {expected[i:i + 20]!r}"
        return False, f"output has {len(got)} characters, expected {len(expected)}"
    g, e = got.split(), expected.split()
    for i, (a, b) in enumerate(zip(g, e, strict=False)):
        ok = _close(a, b, float_tol) if mode == "float" else a == b
        if not ok:
            return False, f"token {i + 1}: got {_clip(a)!r}, expected {_clip(b)!r}"
    if len(g) != len(e):
        return False, f"output has {len(g)} tokens, expected {len(e)}"
    return True, None
