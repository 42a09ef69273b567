"""Episode records: the JSONL schema, crash-safe appends, tolerant reads, resume keys.

Each finished episode is one JSON line written with a single ``os.write`` on an ``O_APPEND``
descriptor, so a run killed at any moment (Ctrl-C, SIGKILL) leaves every finished episode on
disk and at most one partial last line, which readers skip and ``open_for_append`` trims.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nemogym.messages import Message
from nemogym.verdict import Verdict

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class TurnTrace(BaseModel):
    """Per-turn generation data trainers need (present when the server returned it)."""

    prompt_token_ids: list[int] | None = None
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    finish_reason: str | None = None


class EpisodeRecord(BaseModel):
    """One finished episode: everything needed to score, resume, re-verify and train."""

    # A dataset's subset or id column may hold numbers: read them as text, never drop the row.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    schema_version: int = SCHEMA_VERSION
    env_id: str
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    task_index: int
    task_id: str | None = None
    subset: str | None = None
    seed: int | None = None
    repeat: int = 0
    messages: list[Message] = Field(default_factory=list)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    reward: float = 0.0
    masked: bool = False
    verdict: Verdict = Field(default_factory=Verdict)
    turns: int = 0
    timings: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)
    traces: list[TurnTrace] = Field(default_factory=list)
    policy: str | None = None
    model: str | None = None
    run_id: str | None = None
    created_at: float = 0.0

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.env_id, self.task_index, self.repeat)


class RecordWriter:
    """Append-only JSONL writer; each ``write`` is one atomic-enough ``os.write`` of one line."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _trim_partial_tail(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: EpisodeRecord | dict[str, Any]) -> None:
        data = _dump(record) if isinstance(record, BaseModel) else record
        # A lone surrogate (a JSON "\ud83d" escape from a server) cannot be UTF-8: write it back
        # as the same JSON escape, which reads back as the same string.
        line = (json.dumps(data, ensure_ascii=False, default=_jsonable) + "\n").encode("utf-8", "backslashreplace")
        view = memoryview(line)
        while view:  # os.write may write less than asked for very large lines
            view = view[os.write(self._fd, view):]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dump(record: BaseModel) -> Any:
    """The record as JSON data; values pydantic cannot serialise (a ``Fraction`` or a sympy
    number in a verdict's details, undecodable bytes) are written as text, never raised."""
    try:
        return record.model_dump(mode="json")
    except Exception:  # noqa: BLE001 - PydanticSerializationError, UnicodeDecodeError, ...
        return record.model_dump(mode="python")


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _trim_partial_tail(path: Path) -> None:
    """Drop a last line without a newline (a write cut by a kill): it was never a whole record.

    A last line that is a whole JSON object (a file written without a final newline) is kept
    and given its newline: readers already count it, so dropping it would lose an episode.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        size = f.seek(0, os.SEEK_END)
        pos, chunk = size, 65536
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            buf = f.read(pos - start)
            nl = buf.rfind(b"\n")
            if nl >= 0:
                break
            pos = start
        keep = start + nl + 1 if nl >= 0 else 0
        f.seek(keep)
        tail = f.read()
        if _is_json_object(tail):
            f.seek(0, os.SEEK_END)
            f.write(b"\n")
            return
        f.truncate(keep)
        log.warning("%s: trimmed a partial last line (%d bytes)", path, size - keep)


def _is_json_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw.decode("utf-8", "replace")), dict)
    except ValueError:
        return False


def iter_record_dicts(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield each JSON object line; lines that do not parse are skipped with a warning."""
    with Path(path).open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s:%d: skipped an unreadable line", path, n)
                continue
            if isinstance(obj, dict):
                yield obj


def read_records(path: str | Path) -> list[EpisodeRecord]:
    """All readable episode records in ``path`` (broken lines skipped, never fatal)."""
    out = []
    for obj in iter_record_dicts(path):
        try:
            out.append(EpisodeRecord.model_validate(obj))
        except Exception as e:  # noqa: BLE001 - a foreign row is reported, not fatal
            log.warning("%s: skipped a row that is not an episode record: %s", path, e)
    return out


def completed_keys(path: str | Path) -> set[tuple[str, int, int]]:
    """The (env_id, task_index, repeat) of every episode already in ``path`` (for resume)."""
    p = Path(path)
    if not p.exists():
        return set()
    keys = set()
    for obj in iter_record_dicts(p):
        try:
            keys.add((str(obj["env_id"]), int(obj["task_index"]), int(obj.get("repeat", 0))))
        except (KeyError, TypeError, ValueError):
            continue
    return keys


def write_records(path: str | Path, records: Iterable[EpisodeRecord]) -> int:
    """Append ``records`` to ``path``; returns how many."""
    n = 0
    with RecordWriter(path) as w:
        for r in records:
            w.write(r)
            n += 1
    return n
