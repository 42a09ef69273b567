"""Task sources shared by every env family.

* ``ProceduralTasks``: seeded, infinite, with a difficulty knob; task ``i`` is always the same.
* ``DatasetTasks``: rows from a local JSONL/JSON/Parquet file, a ``datasets.save_to_disk``
  folder, an in-memory list or ``datasets.Dataset``, or any HF ``datasets`` name; a field
  mapping and a prompt template turn each row into a ``Task``. Broken rows are skipped with a
  clear reason (kept in ``skipped``), never silently.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Task:
    """One task: the prompt, the gold answer, an optional reference solution, and the raw row."""

    prompt: str
    answer: Any = None
    reference: Any = None
    id: str | None = None
    subset: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class TaskSource:
    """A sequence of tasks: finite (``size`` is an int) or infinite (``size is None``)."""

    size: int | None = None

    def get(self, index: int) -> Task:
        raise NotImplementedError

    def index_for_seed(self, seed: int) -> int:
        """The task index a seeded reset picks: same seed, same task."""
        if self.size is None:
            return seed
        return random.Random(seed).randrange(self.size)

    def __len__(self) -> int:
        if self.size is None:
            raise TypeError("this task source is infinite")
        return self.size


Generator = Callable[[random.Random, int], Task]


class ProceduralTasks(TaskSource):
    """Infinite seeded tasks: ``generate(rng, difficulty)`` with ``rng`` seeded by the index."""

    size = None

    def __init__(self, generate: Generator, difficulty: int = 1, name: str = "procedural"):
        self.generate = generate
        self.difficulty = difficulty
        self.name = name

    def get(self, index: int) -> Task:
        if index < 0:
            raise IndexError(f"task index must be >= 0, got {index}")
        # A string seed is hashed deterministically (sha512), unlike hash() of a tuple.
        rng = random.Random(f"{self.name}/{self.difficulty}/{index}")
        task = self.generate(rng, self.difficulty)
        task.id = task.id or f"{self.name}-d{self.difficulty}-{index}"
        return task


class DatasetError(ValueError):
    """A dataset could not be loaded, or a row is unusable."""


def load_rows(data: Any, *, split: str = "train", subset: str | None = None) -> list[dict[str, Any]]:
    """Load rows from a path, a list of dicts, a ``datasets.Dataset`` or an HF dataset name.

    A JSONL line that is not a JSON object is skipped with a warning (logged with its line
    number), so one broken row never loses the rest of the file.
    """
    if isinstance(data, list | tuple):
        return [dict(r) for r in data]
    if hasattr(data, "to_list") and hasattr(data, "column_names"):  # a datasets.Dataset
        return list(data.to_list())
    path = Path(str(data)).expanduser()
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            return _read_jsonl(path)
        if suffix == ".json":
            loaded = json.loads(path.read_text(encoding="utf-8-sig"))  # -sig: a BOM is not data
            if isinstance(loaded, dict):
                loaded = loaded.get(split) or loaded.get("data") or []
            return [dict(r) for r in loaded]
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        raise DatasetError(f"unsupported data file {path} (use .jsonl, .json or .parquet)")
    if path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
        import datasets

        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds[split]
        return list(ds.to_list())
    if path.suffix or str(data).startswith((".", "/", "~")):
        raise DatasetError(f"data file not found: {path}")
    import datasets  # an HF hub name; loads from the local cache when offline

    try:
        ds = datasets.load_dataset(str(data), subset, split=split)
    except Exception as e:  # noqa: BLE001 - datasets raises many types; say which source failed
        raise DatasetError(f"could not load HF dataset {data!r} (subset={subset}, split={split}): {e}") from e
    return list(ds.to_list())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8-sig", errors="replace") as f:  # -sig: a BOM is not data
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                log.warning("%s:%d: skipped a line that is not JSON (%s)", path, n, e)
                continue
            if not isinstance(row, dict):
                log.warning("%s:%d: skipped a line that is not a JSON object", path, n)
                continue
            rows.append(row)
    return rows


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class _Row(dict):
    """Formatting namespace: a missing placeholder raises a KeyError naming the field."""


class DatasetTasks(TaskSource):
    """Finite tasks from rows; ``prompt_template`` is formatted with the row's fields.

    Args:
        data: a path (.jsonl/.json/.parquet or a ``save_to_disk`` folder), rows, a Dataset,
            or an HF dataset name.
        question_field / answer_field / reference_field / id_field / subset_field: the
            column names to read; the question is available to the template as ``{question}``.
        prompt_template: a ``str.format`` template over ``question`` and every column.
        transform: an optional ``row -> row`` hook applied before mapping.
    """

    def __init__(
        self,
        data: Any,
        *,
        split: str = "train",
        subset: str | None = None,
        question_field: str = "question",
        answer_field: str | None = "answer",
        reference_field: str | None = None,
        id_field: str | None = "id",
        subset_field: str | None = "subset",
        prompt_template: str = "{question}",
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        limit: int | None = None,
    ):
        self.question_field = question_field
        self.answer_field = answer_field
        self.reference_field = reference_field
        self.id_field = id_field
        self.subset_field = subset_field
        self.prompt_template = prompt_template
        self.skipped: list[tuple[int, str]] = []
        rows = load_rows(data, split=split, subset=subset)
        self.tasks: list[Task] = []
        for i, row in enumerate(rows):
            if limit is not None and len(self.tasks) >= limit:
                break
            try:
                self.tasks.append(self._to_task(transform(row) if transform else row, i))
            except Exception as e:  # noqa: BLE001 - a broken row is reported, never fatal
                self.skipped.append((i, f"{type(e).__name__}: {e}"))
                log.warning("dataset row %d skipped: %s", i, e)
        if not self.tasks:
            raise DatasetError(f"no usable rows in {data!r} ({len(self.skipped)} skipped)")
        self.size = len(self.tasks)

    def _to_task(self, row: Mapping[str, Any], i: int) -> Task:
        if self.question_field not in row:
            raise DatasetError(f"row has no {self.question_field!r} field (has {sorted(row)})")
        ns = _Row(row)
        ns["question"] = row[self.question_field]
        prompt = self.prompt_template.format_map(ns)
        answer = row.get(self.answer_field) if self.answer_field else None
        if self.answer_field and self.answer_field not in row:
            raise DatasetError(f"row has no {self.answer_field!r} field")
        return Task(
            prompt=prompt,
            answer=answer,
            reference=row.get(self.reference_field) if self.reference_field else None,
            id=str(row[self.id_field]) if self.id_field and row.get(self.id_field) is not None else str(i),
            subset=_text_or_none(row.get(self.subset_field)) if self.subset_field else None,
            metadata=dict(row),
        )

    def get(self, index: int) -> Task:
        return self.tasks[index]

    def __iter__(self) -> Iterable[Task]:
        return iter(self.tasks)
