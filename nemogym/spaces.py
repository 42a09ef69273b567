"""Gymnasium spaces for chat observations and assistant actions.

Gymnasium's ``Text`` space restricts characters to a fixed charset and cannot hold a list of
role-tagged messages with tool calls, so we declare two small custom spaces:

* ``ChatObservationSpace``: ``{"messages": [message, ...], "tools": [function schema, ...]}``
* ``AssistantActionSpace``: a string (the assistant's text) or an assistant message dict.

``contains`` checks structure (roles, content types), not meaning; ``sample`` produces random,
well-formed values (used by Gymnasium's checker and by the ``random`` policy).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium.spaces import Space

from nemogym.messages import ROLES

_ALPHABET = np.array(list(string.ascii_letters + string.digits + string.punctuation + " \n"))


def _random_text(rng: np.random.Generator, max_len: int) -> str:
    n = int(rng.integers(0, max_len + 1))
    return "".join(rng.choice(_ALPHABET, size=n)) if n else ""


class _StructuredSpace(Space[Any]):
    """A space of Python structures (not arrays): equal to any instance of the same class."""

    def __init__(self, max_sample_len: int = 64, seed: int | None = None):
        self.max_sample_len = max_sample_len
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ChatObservationSpace(_StructuredSpace):
    """Observations: a dict of OpenAI chat ``messages`` and OpenAI function ``tools``."""

    def contains(self, x: Any) -> bool:
        if not isinstance(x, dict) or set(x) != {"messages", "tools"}:
            return False
        if not isinstance(x["messages"], list) or not isinstance(x["tools"], list):
            return False
        for m in x["messages"]:
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                return False
            if not (m.get("content") is None or isinstance(m["content"], str | list)):
                return False
        return all(isinstance(t, dict) and t.get("type") == "function" for t in x["tools"])

    def sample(self, mask: Any = None, probability: Any = None) -> dict:
        return {
            "messages": [{"role": "user", "content": _random_text(self.np_random, self.max_sample_len)}],
            "tools": [],
        }



class AssistantActionSpace(_StructuredSpace):
    """Actions: the assistant's text, or an assistant message dict (content and/or tool_calls)."""

    def contains(self, x: Any) -> bool:
        if isinstance(x, str):
            return True
        if not isinstance(x, dict) or x.get("role", "assistant") != "assistant":
            return False
        content, calls = x.get("content"), x.get("tool_calls")
        return (isinstance(content, str) or isinstance(calls, list)) and (
            calls is None or isinstance(calls, list)
        )

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        return _random_text(self.np_random, self.max_sample_len)
