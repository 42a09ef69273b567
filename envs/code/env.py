"""``nemogym/Code-v0``: single-turn code generation over a dataset, verified in a sandbox.

Rows need a prompt, tests and (for function-style tests) an entry point; field names are
configurable, so our JSONL, a Parquet file, HumanEval-shaped or APPS-shaped HF datasets all
load. Tests run through ``nemogym.verifiers.code`` in ``nemogym.sandboxes.default_sandbox()``
(or the ``sandbox`` you pass), with the async API: a step never blocks the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nemogym.verifiers.code import FunctionTests, Tests, averify, spec_from_row, worst_case_s
from nemogym.verifiers.code.extract import Strategy, defines

from nemogym.env import Episode, Fixture, TaskEnv
from nemogym.messages import content_text
from nemogym.tasks import DatasetTasks, Task
from nemogym.verdict import Verdict

DEFAULT_DATA = Path(__file__).parent / "data" / "code_example.jsonl"

SYSTEM_PROMPT = ("You are an expert Python programmer. Reply with your complete solution in a "
                 "single ```python code block.")
FUNCTION_SUFFIX = ("\n\nImplement the function `{entry_point}` in Python. Reply with the complete "
                   "function (and any imports or helpers it needs) in one ```python code block.")
IO_SUFFIX = ("\n\nWrite a complete Python program that reads the input from standard input and "
             "prints the answer to standard output. Reply with the program in one ```python code block.")
COMPLETION_PROMPT = "Complete the following Python function:\n```python\n{code_prompt}```"


class CodeEnv(TaskEnv):
    """Single-turn: the answer's program is tested; reward 1 when every test passes.

    Args:
        data: a .jsonl/.json/.parquet path, rows, a ``datasets.Dataset`` or an HF name
            (default: the shipped example set, both test styles).
        prompt_field / tests_field / entry_point_field / solution_field / id_field /
            style_field: column names. ``code_prompt_field``: a HumanEval-style code stub
            (the prompt shows it, and a bare completion is appended to it).
        compare / partial_credit / timeout_s / case_timeout_s: override the rows' settings.
        site_packages: let function-style programs import installed packages (default: stdlib).
        sandbox: a ``nemogym.sandboxes.Sandbox`` (default: ``default_sandbox()``).
    """

    system_prompt = SYSTEM_PROMPT

    def __init__(self, data: Any = None, *, split: str = "train", subset: str | None = None,
                 limit: int | None = None, prompt_field: str = "prompt", tests_field: str = "tests",
                 entry_point_field: str = "entry_point", solution_field: str | None = "solution",
                 id_field: str | None = "id", style_field: str = "style",
                 code_prompt_field: str | None = None, compare: str | None = None,
                 partial_credit: bool | None = None, timeout_s: float | None = None,
                 case_timeout_s: float | None = None, site_packages: bool | None = None,
                 strategy: Strategy = "last",
                 sandbox: Any = None, **kwargs: Any):
        self.fields = {"tests_field": tests_field, "entry_point_field": entry_point_field,
                       "style_field": style_field, "code_prompt_field": code_prompt_field}
        self.overrides = {"compare": compare, "partial_credit": partial_credit,
                          "timeout_s": timeout_s, "case_timeout_s": case_timeout_s,
                          "site_packages": site_packages}
        self.prompt_field, self.solution_field = prompt_field, solution_field
        self.strategy: Strategy = strategy
        self.sandbox = sandbox
        self._verify_timeout_s: float | None = None
        tasks = DatasetTasks(
            DEFAULT_DATA if data is None else data, split=split, subset=subset, limit=limit,
            question_field="_prompt", answer_field=None, reference_field="_reference",
            id_field=id_field, subset_field="_subset", transform=self._prepare_row,
        )
        super().__init__(tasks, **kwargs)
        self._tests: dict[int, Tests] = {}

    # -- rows -> tasks -----------------------------------------------------------------
    def _prepare_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """Validate the row's tests (a broken row is skipped with the reason) and build its prompt."""
        tests = self._build_tests(row)
        if self.prompt_field not in row or not isinstance(row[self.prompt_field], str):
            raise ValueError(f"row has no text in field {self.prompt_field!r}")
        out = dict(row)
        code_prompt = tests.code_prompt if isinstance(tests, FunctionTests) else ""
        if code_prompt and row[self.prompt_field] == code_prompt:
            out["_prompt"] = COMPLETION_PROMPT.format(code_prompt=code_prompt)
        elif isinstance(tests, FunctionTests):
            out["_prompt"] = row[self.prompt_field] + FUNCTION_SUFFIX.format(entry_point=tests.entry_point)
        else:
            out["_prompt"] = row[self.prompt_field] + IO_SUFFIX
        out["_subset"] = row.get("subset") or ("function" if isinstance(tests, FunctionTests) else "io")
        solution = row.get(self.solution_field) if self.solution_field else None
        if isinstance(solution, str) and solution.strip():
            if code_prompt and not defines(solution, tests.entry_point):
                solution = code_prompt + solution
            out["_reference"] = f"```python\n{solution.rstrip()}\n```"
        return out

    def _build_tests(self, row: dict[str, Any]) -> Tests:
        return spec_from_row(row, **self.fields, **self.overrides)

    def tests_for(self, task_index: int) -> Tests:
        """The tests of task ``task_index`` (parsed once)."""
        if task_index not in self._tests:
            self._tests[task_index] = self._build_tests(self.tasks.get(task_index).metadata)
        return self._tests[task_index]

    # -- verification ------------------------------------------------------------------
    @property
    def verify_timeout_s(self) -> float | None:  # type: ignore[override]
        """Bound on one verification: set explicitly, or 3x the current task's worst case + 60 s
        (at least 120 s), so a slow program is scored by the sandbox's limits, never masked."""
        if self._verify_timeout_s is not None or self.episode is None:
            return self._verify_timeout_s or 120.0
        worst = worst_case_s(self.tests_for(self.episode.task_index))
        return max(120.0, 3 * worst + 60.0)

    @verify_timeout_s.setter
    def verify_timeout_s(self, value: float | None) -> None:
        self._verify_timeout_s = value

    async def averify_text(self, task_index: int, text: str) -> Verdict:
        """Score one answer to task ``task_index`` (the sandbox's async API: never blocks)."""
        verdict = await averify(text, self.tests_for(task_index), sandbox=self.sandbox,
                                strategy=self.strategy)
        verdict.details.setdefault("task_id", self.tasks.get(task_index).id)
        return verdict

    async def averify(self, episode: Episode) -> Verdict:
        return await self.averify_text(episode.task_index, _last_assistant_text(episode))

    def verify(self, task: Task, response: str) -> Verdict:  # pragma: no cover - averify is used
        raise NotImplementedError("CodeEnv verifies asynchronously (averify)")

    # -- fixtures for `nemogym check` ----------------------------------------------------
    def fixtures(self) -> list[Fixture]:
        """Full (reference), zero (wrong program, fake 'passed', no code) and malformed cases."""
        out: list[Fixture] = []
        seen: set[str] = set()
        for i in range(len(self.tasks)):
            tests = self.tests_for(i)
            style = "function" if isinstance(tests, FunctionTests) else "io"
            if style in seen:
                continue
            seen.add(style)
            ref = self.reference_for(self.tasks.get(i))
            if ref is not None:
                out.append(Fixture(f"{style}: reference solution", ref, 1.0, task_index=i))
            if isinstance(tests, FunctionTests):
                wrong = f"```python\ndef {tests.entry_point}(*args, **kwargs):\n    return None\n```"
                out.append(Fixture("function: returns None", wrong, 0.0, task_index=i, kind="zero"))
                out.append(Fixture("function: exits 0 before the tests",
                                   "```python\nimport sys\nsys.exit(0)\n```", 0.0, task_index=i, kind="zero"))
            else:
                out.append(Fixture("io: prints a fake 'all tests passed'",
                                   "```python\nprint('all tests passed')\n```", 0.0, task_index=i, kind="zero"))
            if len(seen) == 2:
                break
        out.append(Fixture("no code in the answer", "I am not sure how to solve this.", 0.0, kind="zero"))
        out.append(Fixture("not an assistant message", {"role": "user", "content": 42}, 0.0, kind="malformed"))
        out.append(Fixture("wrong type", 12345, 0.0, kind="malformed"))
        return out


def _last_assistant_text(episode: Episode) -> str:
    for m in reversed(episode.messages):
        if m.get("role") == "assistant":
            return content_text(m.get("content"))
    return ""
