"""Find the program in a model's response: fenced blocks first, then raw code.

``extract_program(text)`` returns an ``Extraction`` whose ``code`` is None (with a ``reason``)
when the response holds no Python program. Closed ``<think>...</think>`` sections are ignored.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import Literal

Strategy = Literal["last", "longest"]

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
# An opening fence (3+ backticks or tildes, optional info string), the body, then the same fence
# or the end of the text (a response cut off mid-block still counts).
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)"
                    r"(?:^[ \t]*(?P=fence)[ \t]*$|\Z)", re.DOTALL | re.MULTILINE)
_PYTHON_TAGS = {"python", "py", "python3", "py3", "python2", "ipython", "pycon"}
_UNLABELLED = {""}


@dataclass(frozen=True)
class Extraction:
    """The extracted program (None if none), where it came from, and why when it is None."""

    code: str | None
    source: Literal["fenced", "raw", "none"]
    reason: str | None = None
    blocks: int = 0


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block as ``(language tag, body)``, in order of appearance."""
    out = []
    for m in _FENCE.finditer(text):
        info = m.group("info").strip().split()
        tag = info[0].lower().lstrip("{.").rstrip("}") if info else ""
        body = m.group("body")
        if m.group(0)[:1] in " \t":  # a fence indented inside a list item: so is its code
            body = textwrap.dedent(body)
        out.append((tag, body))
    return out


def parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def defines(code: str, name: str) -> bool:
    """True if ``code`` parses and defines ``name`` (function, class or assignment) at top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
        if isinstance(node, ast.ImportFrom | ast.Import) and any((a.asname or a.name) == name for a in node.names):
            return True
    return False


def _looks_like_code(code: str) -> bool:
    """A raw response counts as code only if it parses and does more than name a value."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Call):
                return True
            continue
        return True
    return False


def extract_program(text: str, *, strategy: Strategy = "last", entry_point: str | None = None,
                    code_prompt: str = "") -> Extraction:
    """The program in ``text``.

    Fenced blocks tagged python (or untagged) are candidates; among them, those defining
    ``entry_point`` are preferred when it is given, then the ``last`` or ``longest`` wins.
    Without fences, the whole text counts if it parses as Python (alone, or as a completion of
    ``code_prompt``). A program that does not define ``entry_point`` is appended to
    ``code_prompt`` (HumanEval-style completions).
    """
    if not isinstance(text, str):
        return Extraction(None, "none", f"response is {type(text).__name__}, not text")
    visible = _THINK.sub("", text.replace("\r\n", "\n"))
    if re.search(r"<think>", visible, re.IGNORECASE) and "</think>" not in visible.lower():
        visible = visible[: visible.lower().index("<think>")]  # an unclosed thought: drop it
    blocks = fenced_blocks(visible)
    python = [b for tag, b in blocks if tag in _PYTHON_TAGS]
    candidates = python or [b for tag, b in blocks if tag in _UNLABELLED]
    candidates = [c for c in candidates if c.strip()]
    if candidates:
        if entry_point:
            defining = [c for c in candidates if defines(c, entry_point)]
            candidates = defining or candidates
        code = max(candidates, key=len) if strategy == "longest" else candidates[-1]
        return Extraction(_complete(code, entry_point, code_prompt), "fenced", blocks=len(blocks))
    if blocks:
        tags = sorted({tag or "untagged" for tag, _ in blocks})
        return Extraction(None, "none", f"no Python code block (found blocks tagged {', '.join(tags)})",
                          blocks=len(blocks))
    raw = visible.strip("\n") + "\n"
    if raw.strip() and _looks_like_code(raw):
        return Extraction(_complete(raw, entry_point, code_prompt), "raw")
    if raw.strip() and code_prompt and entry_point and parses(code_prompt + raw):
        return Extraction(code_prompt + raw, "raw")
    return Extraction(None, "none", "no code found in the response")


_IMPORT_LINE = re.compile(r"^(?:import[ \t]+[\w.]+.*|from[ \t]+[\w.]+[ \t]+import[ \t]+[^(\\\n]*)$", re.MULTILINE)


def _complete(code: str, entry_point: str | None, code_prompt: str) -> str:
    if entry_point and code_prompt and not defines(code, entry_point):
        joined = code_prompt + code if code_prompt.endswith("\n") else code_prompt + "\n" + code
        if parses(joined):
            return joined
    elif entry_point and code_prompt:
        # a full rewrite of the stub may rely on the stub's imports (``List`` in a signature)
        imports = "".join(m.group(0) + "\n" for m in _IMPORT_LINE.finditer(code_prompt))
        if imports and parses(imports + code):
            return imports + code
    return code
