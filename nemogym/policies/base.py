"""The ``Policy`` protocol: an async call from chat messages (+ tools) to an assistant message.

A policy raises ``PolicyError`` when the *infrastructure* failed (server down, 5xx after
retries, garbage JSON, timeout); the runner masks such episodes. Whatever the model says,
however malformed, is returned as a message and scored by the env.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from nemogym.messages import Message, ToolSchema


class Sampling(BaseModel):
    """Sampling parameters, passed to the server as-is (``extra`` is merged into the body)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    logprobs: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


class PolicyResponse(BaseModel):
    """One generation: the assistant message plus what trainers and metrics need."""

    message: Message
    usage: dict[str, int] = Field(default_factory=dict)
    finish_reason: str | None = None
    model: str | None = None
    prompt_token_ids: list[int] | None = None
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    latency_s: float = 0.0


class PolicyContext(BaseModel):
    """What the runner tells a policy about the episode (built-in policies use it)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    env: Any = None
    env_id: str | None = None
    task_index: int | None = None
    repeat: int = 0
    turn: int = 0
    seed: int | None = None


class PolicyError(RuntimeError):
    """The policy's infrastructure failed; the episode is masked with this reason."""


@runtime_checkable
class Policy(Protocol):
    """Anything with ``name``, ``model`` and this async call is a policy."""

    name: str
    model: str | None

    async def __call__(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        *,
        sampling: Sampling | None = None,
        context: PolicyContext | None = None,
    ) -> PolicyResponse: ...

    async def aclose(self) -> None: ...
