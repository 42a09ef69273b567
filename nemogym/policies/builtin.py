"""Built-in policies that need no model: ``oracle``, ``random`` and ``replay``.

- ``OraclePolicy`` sends the env's reference solution (``env.reference_action()``), so a
  correct env scores it 1.0: the checker's and the CLI's default end-to-end path.
- ``RandomPolicy`` sends seeded garbage (random text, empty strings, bogus tool calls),
  deterministic in (seed, env, task, repeat, turn): an env must score it 0 without raising.
- ``ReplayPolicy`` sends back the assistant messages stored in a JSONL file (rollout records
  or ``{task_index, repeat?, response}`` rows), turn by turn.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import random
import string
from fractions import Fraction
from pathlib import Path
from typing import Any

from nemogym.messages import Message, ToolSchema
from nemogym.policies.base import PolicyContext, PolicyError, PolicyResponse, Sampling

log = logging.getLogger(__name__)


class OraclePolicy:
    """Replies with ``context.env.reference_action()``: a string becomes the assistant's text,
    a dict is used as the assistant message (e.g. tool calls). No reference -> ``PolicyError``."""

    name = "oracle"
    model: str | None = None

    async def __call__(self, messages: list[Message], tools: list[ToolSchema] | None = None, *,
                       sampling: Sampling | None = None,
                       context: PolicyContext | None = None) -> PolicyResponse:
        env = context.env if context is not None else None
        if env is None or not hasattr(env, "reference_action"):
            raise PolicyError("the oracle policy needs the env in context.env")
        ref = env.reference_action()
        if inspect.isawaitable(ref):
            ref = await ref
        if ref is None:
            raise PolicyError("env has no reference solution")
        return PolicyResponse(message=_as_message(ref, "reference"), finish_reason="stop")

    async def aclose(self) -> None:
        return None


class RandomPolicy:
    """Seeded garbage, deterministic in (seed, env_id, seed, task_index, repeat, turn).

    With probability ``p_empty`` an empty string, ``p_tool`` a bogus tool call (unknown tool or
    non-JSON arguments), else up to ``max_chars`` random characters (sometimes a random
    ``\\boxed{}`` number, so answer extractors are exercised too).
    """

    name = "random"
    model: str | None = None

    def __init__(self, seed: int = 0, *, p_empty: float = 0.15, p_tool: float = 0.2,
                 max_chars: int = 200):
        if not (0 <= p_empty <= 1 and 0 <= p_tool <= 1 and p_empty + p_tool <= 1):
            raise ValueError("p_empty and p_tool must be probabilities summing to at most 1")
        self.seed, self.p_empty, self.p_tool, self.max_chars = seed, p_empty, p_tool, max_chars
        self._calls = 0

    def _rng(self, context: PolicyContext | None) -> random.Random:
        if context is None:  # no episode identity: fall back to the call counter
            self._calls += 1
            return random.Random(f"nemogym-random:{self.seed}:call:{self._calls}")
        c = context
        return random.Random(
            f"nemogym-random:{self.seed}:{c.env_id}:{c.seed}:{c.task_index}:{c.repeat}:{c.turn}")

    async def __call__(self, messages: list[Message], tools: list[ToolSchema] | None = None, *,
                       sampling: Sampling | None = None,
                       context: PolicyContext | None = None) -> PolicyResponse:
        rng = self._rng(context)
        roll = rng.random()
        if roll < self.p_empty:
            message: Message = {"role": "assistant", "content": ""}
        elif roll < self.p_empty + self.p_tool:
            message = {"role": "assistant", "content": None, "tool_calls": [_bogus_call(rng, tools)]}
        else:
            message = {"role": "assistant", "content": _garbage_text(rng, self.max_chars)}
        return PolicyResponse(message=message, finish_reason="stop")

    async def aclose(self) -> None:
        return None


class ReplayPolicy:
    """Replays assistant messages from a JSONL file, turn ``t`` of episode (task, repeat).

    Rows are rollout records (``env_id, task_index, repeat, messages``) or simple rows
    ``{task_index, repeat?, response}`` where ``response`` is a string, a message or a list of
    them (one per turn). Later rows for the same episode replace earlier ones; unreadable lines
    are skipped with a warning. A missing episode or turn raises ``PolicyError``.
    """

    name = "replay"
    model: str | None = None

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"replay file not found: {self.path}")
        #: env_id (None for rows without one) -> (task_index, repeat) -> assistant messages
        self.episodes: dict[str | None, dict[tuple[int, int], list[Message]]] = {}
        self.skipped_lines = 0
        self._load()
        if not any(self.episodes.values()):
            raise ValueError(f"replay file {self.path} holds no usable rows "
                             f"({self.skipped_lines} unreadable)")

    def _load(self) -> None:
        with self.path.open(encoding="utf-8", errors="replace") as f:  # a bad byte fails one line
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    env_id, key, turns = _parse_row(row)
                except (ValueError, TypeError, KeyError, PolicyError) as e:
                    self.skipped_lines += 1
                    log.warning("replay %s:%d skipped: %s", self.path, lineno, e)
                    continue
                self.episodes.setdefault(_norm_env(env_id), {})[key] = turns

    def turns_for(self, context: PolicyContext) -> list[Message] | None:
        """The stored assistant messages of the context's episode, or None.

        Rows without ``env_id`` serve any env; a context without ``env_id`` reads a file that
        holds a single env.
        """
        key = (int(context.task_index or 0), int(context.repeat))
        env = _norm_env(context.env_id)
        only = next(iter(self.episodes.values())) if len(self.episodes) == 1 else None
        for table in (self.episodes.get(env), self.episodes.get(None), only if env is None else None):
            if table is not None and key in table:
                return table[key]
        return None

    async def __call__(self, messages: list[Message], tools: list[ToolSchema] | None = None, *,
                       sampling: Sampling | None = None,
                       context: PolicyContext | None = None) -> PolicyResponse:
        if context is None or context.task_index is None:
            raise PolicyError("the replay policy needs context.task_index")
        turns = self.turns_for(context)
        if turns is None:
            raise PolicyError(f"replay {self.path.name}: no episode env={context.env_id} "
                              f"task_index={context.task_index} repeat={context.repeat}")
        if not 0 <= context.turn < len(turns):
            raise PolicyError(f"replay {self.path.name}: episode task_index={context.task_index} "
                              f"repeat={context.repeat} has {len(turns)} assistant turn(s), "
                              f"turn {context.turn} asked")
        return PolicyResponse(message=copy.deepcopy(turns[context.turn]), finish_reason="stop")

    async def aclose(self) -> None:
        return None


# -- helpers ------------------------------------------------------------------------------
def _as_message(value: Any, what: str) -> Message:
    if isinstance(value, str):
        return {"role": "assistant", "content": value}
    if isinstance(value, dict):
        msg = copy.deepcopy(value)
        msg.setdefault("role", "assistant")
        return msg
    if isinstance(value, int | float | Fraction) and not isinstance(value, bool):
        return {"role": "assistant", "content": str(value)}
    raise PolicyError(f"{what} is a {type(value).__name__}, not a string or an assistant message")


def _parse_row(row: Any) -> tuple[str | None, tuple[int, int], list[Message]]:
    if not isinstance(row, dict):
        raise TypeError(f"row is a {type(row).__name__}, not an object")
    key = (int(row["task_index"]), int(row.get("repeat") or 0))
    if "messages" in row:
        msgs = row["messages"]
        if not isinstance(msgs, list):
            raise TypeError("'messages' is not a list")
        verdict = row.get("verdict")
        turns = [m for m in msgs if isinstance(m, dict) and m.get("role") == "assistant"]
        details = verdict.get("details") if isinstance(verdict, dict) else None
        if (turns and isinstance(details, dict) and details.get("malformed")
                and isinstance(details.get("malformed_action"), dict)):
            turns[-1] = details["malformed_action"]  # the action itself, not its stored repr
    elif "response" in row:
        resp = row["response"]
        turns = [_as_message(r, "response") for r in (resp if isinstance(resp, list) else [resp])]
    else:
        raise KeyError("row has neither 'messages' nor 'response'")
    env_id = row.get("env_id")
    return (env_id if isinstance(env_id, str) else None), key, turns


def _norm_env(env_id: str | None) -> str | None:
    if env_id is None:
        return None
    return env_id if "/" in env_id else f"nemogym/{env_id}"


# No digits: garbage must not stumble on a task's answer by chance (the boxed number below is
# drawn from a range too wide to hit one).
_ALPHABET = string.ascii_letters + string.punctuation + " \n\t" + "éßΩ漢字🙂"


def _garbage_text(rng: random.Random, max_chars: int) -> str:
    n = rng.randint(1, max(1, max_chars))
    text = "".join(rng.choice(_ALPHABET) for _ in range(n))
    if rng.random() < 0.3:
        text += f" \\boxed{{{rng.randint(10**9, 10**12)}}}"
    return text


def _bogus_call(rng: random.Random, tools: list[ToolSchema] | None) -> dict[str, Any]:
    names = [t.get("function", {}).get("name") for t in tools or [] if isinstance(t, dict)]
    names = [n for n in names if isinstance(n, str)]
    if names and rng.random() < 0.5:
        name = rng.choice(names)
    else:
        name = "no_such_tool_" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    args = rng.choice(['{"x": ', "not json", json.dumps({"garbage": rng.random()}), ""])
    return {"id": f"call_{rng.randrange(10**8)}", "type": "function",
            "function": {"name": name, "arguments": args}}
