"""What a code task is tested with: ``FunctionTests`` (HumanEval-like) or ``IOTests`` (stdin/stdout).

``spec_from_row`` builds either from a dataset row (our JSONL, HumanEval, APPS/CodeContests
shapes) and raises ``SpecError`` naming the problem when a row is unusable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Compare = Literal["exact", "whitespace", "float"]
COMPARE_MODES: tuple[str, ...] = ("exact", "whitespace", "float")


class SpecError(ValueError):
    """A task's tests are missing or malformed (a dataset problem, never the model's fault)."""


@dataclass(frozen=True)
class FunctionTests:
    """``test`` defines ``check(candidate)``; the candidate is the program's ``entry_point``.

    ``code_prompt`` is the stub a bare completion continues (HumanEval's ``prompt``): a response
    that does not define ``entry_point`` itself is appended to it. ``timeout_s`` bounds loading
    the program plus every call the check makes.
    """

    test: str
    entry_point: str
    code_prompt: str = ""
    timeout_s: float = 10.0
    memory_mb: int = 1024
    #: Let the program import installed packages (``site``); off: standard library only, faster.
    site_packages: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.test, str) or "check" not in self.test:
            raise SpecError("function tests must be code defining check(candidate)")
        if not isinstance(self.entry_point, str) or not self.entry_point.isidentifier():
            raise SpecError(f"entry point {self.entry_point!r} is not a Python identifier")
        if not self.timeout_s > 0:
            raise SpecError("timeout_s must be > 0")


@dataclass(frozen=True)
class IOCase:
    """One stdin/stdout case: the program reads ``input`` and must print ``output``."""

    input: str
    output: str


@dataclass(frozen=True)
class IOTests:
    """Competitive-programming tests: every case runs the program afresh in the sandbox.

    ``compare``: ``exact`` (identical text), ``whitespace`` (same whitespace-separated tokens)
    or ``float`` (tokens equal, or both numbers within ``float_tol`` absolute or relative).
    ``partial_credit``: reward = fraction of cases passed (else all-or-nothing, stopping at
    the first failure). Expected outputs stay on the host: they never enter the sandbox.
    """

    cases: tuple[IOCase, ...]
    compare: Compare = "whitespace"
    partial_credit: bool = False
    case_timeout_s: float = 2.0
    float_tol: float = 1e-6
    memory_mb: int = 512
    max_parallel: int = 4

    def __post_init__(self) -> None:
        if not self.cases:
            raise SpecError("stdin/stdout tests need at least one case")
        if self.compare not in COMPARE_MODES:
            raise SpecError(f"compare must be one of {COMPARE_MODES}, got {self.compare!r}")
        if not self.case_timeout_s > 0:
            raise SpecError("case_timeout_s must be > 0")


Tests = FunctionTests | IOTests


def io_cases(raw: Any) -> tuple[IOCase, ...]:
    """Cases from ``[{"input","output"}, ...]``, ``{"inputs": [...], "outputs": [...]}`` (APPS),
    ``{"input": [...], "output": [...]}`` (CodeContests) or JSON of any of them."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as e:
            raise SpecError(f"stdin/stdout tests are not valid JSON: {e}") from e
    if isinstance(raw, Mapping) and isinstance(raw.get("input"), list | tuple) \
            and isinstance(raw.get("output"), list | tuple):  # CodeContests' public_tests etc.
        raw = {"inputs": raw["input"], "outputs": raw["output"]}
    if isinstance(raw, Mapping) and "inputs" in raw and "outputs" in raw:
        ins, outs = raw["inputs"], raw["outputs"]
        if len(ins) != len(outs):
            raise SpecError(f"{len(ins)} inputs but {len(outs)} outputs")
        raw = [{"input": i, "output": o} for i, o in zip(ins, outs, strict=True)]
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise SpecError(f"stdin/stdout tests must be a list of cases, got {type(raw).__name__}")
    cases = []
    for n, case in enumerate(raw):
        if not isinstance(case, Mapping) or "input" not in case or "output" not in case:
            raise SpecError(f"case {n} must be an object with 'input' and 'output'")
        i, o = case["input"], case["output"]
        if not isinstance(i, str) or not isinstance(o, str):
            raise SpecError(f"case {n}: input and output must be strings")
        cases.append(IOCase(i, o))
    return tuple(cases)


def spec_from_row(row: Mapping[str, Any], *, tests_field: str = "tests",
                   entry_point_field: str = "entry_point", style_field: str = "style",
                   code_prompt_field: str | None = None, **overrides: Any) -> Tests:
    """Build the tests of one dataset row.

    The style is ``row[style_field]`` (``function`` or ``io``) when present, else ``function``
    if the row has a non-empty entry point and string tests, else ``io``. Row keys
    ``compare``, ``partial_credit``, ``timeout_s``/``case_timeout_s``, ``float_tol`` are
    honoured; ``overrides`` (non-None values) win over the row.
    """
    if tests_field not in row or row[tests_field] in (None, "", []):
        raise SpecError(f"row has no tests in field {tests_field!r}")
    raw = row[tests_field]
    entry = row.get(entry_point_field) or ""
    style = row.get(style_field) or ("function" if entry and isinstance(raw, str) and "def check" in raw else "io")
    opts = {k: v for k, v in overrides.items() if v is not None}
    if style == "function":
        if not entry:
            raise SpecError(f"function-style row has no entry point in field {entry_point_field!r}")
        kwargs: dict[str, Any] = {}
        if row.get("timeout_s") is not None:
            kwargs["timeout_s"] = float(row["timeout_s"])
        kwargs.update({k: opts[k] for k in ("timeout_s", "memory_mb", "site_packages") if k in opts})
        prompt = row.get(code_prompt_field, "") if code_prompt_field else ""
        return FunctionTests(test=raw, entry_point=entry, code_prompt=prompt or "", **kwargs)
    if style != "io":
        raise SpecError(f"unknown test style {style!r} (use 'function' or 'io')")
    kwargs = {}
    for key in ("compare", "partial_credit", "case_timeout_s", "float_tol", "memory_mb"):
        if row.get(key) is not None:
            kwargs[key] = row[key]
    kwargs.update({k: opts[k] for k in ("compare", "partial_credit", "case_timeout_s", "float_tol",
                                        "memory_mb", "max_parallel") if k in opts})
    return IOTests(cases=io_cases(raw), **kwargs)


#: Seconds a sandbox run may take beyond the program's own limit (interpreter starts, bwrap).
RUN_OVERHEAD_S = 5.0


def worst_case_s(tests: Tests) -> float:
    """How long verifying ``tests`` takes at most while the sandbox enforces its limits (no queueing)."""
    if isinstance(tests, FunctionTests):
        return tests.timeout_s + RUN_OVERHEAD_S
    rounds = math.ceil(len(tests.cases) / max(1, tests.max_parallel))
    return rounds * (tests.case_timeout_s + RUN_OVERHEAD_S)
