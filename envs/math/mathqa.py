"""``nemogym/MathQA-v0``: question/answer math datasets (JSONL, Parquet, or an HF dataset name).

The default data is the small example file shipped here (``data/mathqa_example.jsonl``);
``MathQA-v0`` with ``data="openai/gsm8k", subset="main", split="test"`` loads GSM8K when the user
has it (its ``#### n`` answers are understood), ``question_field=``/``answer_field=`` map other
column names (e.g. ``problem``/``solution`` for MATH, whose ``\\boxed{}`` is unwrapped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nemogym.envs.math.base import BOXED_SYSTEM_PROMPT, MathEnv, Verifier, boxed
from nemogym.verifiers.math import gold_text

from nemogym.env import Fixture
from nemogym.tasks import DatasetTasks, Task

EXAMPLE_DATA = Path(__file__).resolve().parent / "data" / "mathqa_example.jsonl"
DEFAULT_TEMPLATE = "{question}"


class MathQAEnv(MathEnv):
    """Single-turn math QA over a dataset; answers are graded by the math verifier.

    Args:
        data: a local .jsonl/.json/.parquet path, a ``save_to_disk`` folder, rows, or an HF name.
        split / subset: for HF datasets (and JSON files with splits).
        question_field / answer_field: the columns holding the question and the gold answer
            (a full GSM8K/MATH solution works: ``#### n`` and ``\\boxed{}`` are unwrapped).
        prompt_template: ``str.format`` over ``{question}`` and every column.
        system_prompt: defaults to asking for the final answer in ``\\boxed{}``.
        limit: keep only the first ``limit`` usable rows.
    """

    system_prompt = BOXED_SYSTEM_PROMPT

    def __init__(self, data: Any = None, *, split: str = "train", subset: str | None = None,
                 question_field: str = "question", answer_field: str = "answer",
                 prompt_template: str = DEFAULT_TEMPLATE, system_prompt: str | None = None,
                 limit: int | None = None, verifier: Verifier | None = None,
                 verifier_options: dict[str, Any] | None = None, **kwargs: Any):
        tasks = DatasetTasks(EXAMPLE_DATA if data is None else data, split=split, subset=subset,
                             question_field=question_field, answer_field=answer_field,
                             prompt_template=prompt_template, limit=limit)
        super().__init__(tasks, verifier=verifier, verifier_options=verifier_options,
                         system_prompt=system_prompt, **kwargs)

    def reference_for(self, task: Task) -> Any:
        if task.reference is not None:
            return task.reference
        return boxed(gold_text(task.answer))

    def fixtures(self) -> list[Fixture]:
        task = self.tasks.get(0)
        gold = gold_text(task.answer)
        return [
            Fixture("boxed reference", self.reference_for(task), 1.0),
            Fixture("hedged: two boxed answers", f"\\boxed{{{gold}}} or \\boxed{{{gold} + 1}}", 0.0, kind="zero"),
            Fixture("empty", "", 0.0, kind="zero"),
            Fixture("no content", {"role": "assistant"}, 0.0, kind="malformed"),
            Fixture("wrong type", 12345, 0.0, kind="malformed"),
        ]
