"""`Verdict`: what a verifier says about one episode.

A verdict separates a *wrong answer* (``reward`` 0, the model's fault, trained on) from an
*infrastructure failure* (``masked=True``: sandbox died, judge timed out, policy server down),
which must never enter training or metrics as a plain 0.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Verdict(BaseModel):
    """The score of one episode: reward, named components, details, and the masked flag."""

    model_config = ConfigDict(extra="forbid")

    reward: float = 0.0
    components: dict[str, float] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    masked: bool = False
    failure: str | None = None

    @classmethod
    def correct(cls, reward: float = 1.0, **details: Any) -> Verdict:
        """A scored verdict (by default full reward) with ``details``."""
        return cls(reward=reward, details=details)

    @classmethod
    def wrong(cls, reason: str, **details: Any) -> Verdict:
        """Reward 0 because of the model's output; ``reason`` lands in ``details['reason']``."""
        return cls(reward=0.0, details={"reason": reason, **details})

    @classmethod
    def infra_failure(cls, failure: str, **details: Any) -> Verdict:
        """A masked verdict: the infrastructure failed, the episode says nothing about the model."""
        return cls(reward=0.0, masked=True, failure=failure, details=details)

    @property
    def reason(self) -> str | None:
        """Why the episode got what it got, if anyone said."""
        return self.failure or self.details.get("reason")
