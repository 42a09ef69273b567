"""``nemogym/CodeMultiTurn-v0``: code generation with retries on test feedback.

After a failing attempt the model sees why (the failing test's input, expected and actual
output, or the failed assertion and last call; truncated) and may answer again, up to
``max_turns`` attempts. A pass at attempt ``t`` earns ``turn_discount ** (t - 1)``; when every
attempt fails, the last attempt's reward (0, or its partial credit) is discounted the same way.
A sandbox failure at any attempt masks the episode.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nemogym.envs.code.env import CodeEnv
from nemogym.verifiers.code import feedback

from nemogym.env import Episode, Reply
from nemogym.messages import Message, content_text
from nemogym.verdict import Verdict

RETRY_SUFFIX = "\n\nFix your solution and reply with the complete corrected program in one ```python code block."


class CodeMultiTurnEnv(CodeEnv):
    """``CodeEnv`` with up to ``max_turns`` attempts and test feedback between them."""

    def __init__(self, data: Any = None, *, max_turns: int = 3, turn_discount: float = 0.8,
                 feedback_chars: int = 1500, **kwargs: Any):
        if max_turns < 1:
            raise ValueError("max_turns must be >= 1")
        if not 0.0 <= turn_discount <= 1.0:
            raise ValueError("turn_discount must be in [0, 1]")
        super().__init__(data, max_turns=max_turns, **kwargs)
        self.turn_discount = turn_discount
        self.feedback_chars = feedback_chars

    async def arespond(self, episode: Episode, message: Message) -> Reply:
        text = content_text(message.get("content"))
        try:
            verdict = await asyncio.wait_for(self.averify_text(episode.task_index, text),
                                             self.verify_timeout_s)
        except TimeoutError:
            return Reply(done=True, verdict=Verdict.infra_failure(
                f"verifier timed out after {self.verify_timeout_s}s", turn=episode.turn))
        attempts = episode.data.setdefault("attempts", [])
        attempts.append({"turn": episode.turn, "reward": verdict.reward, "reason": verdict.reason})
        if verdict.masked:
            verdict.details["turn"] = episode.turn
            return Reply(done=True, verdict=verdict)
        if verdict.reward >= 1.0 or episode.turn >= self.max_turns:
            return Reply(done=True, verdict=self._discounted(verdict, episode.turn, attempts))
        note = feedback(verdict, self.feedback_chars)
        left = self.max_turns - episode.turn
        note += RETRY_SUFFIX + f" ({left} attempt{'s' if left > 1 else ''} left)"
        return Reply(messages=[{"role": "user", "content": note}], done=False)

    def _discounted(self, verdict: Verdict, turn: int, attempts: list[dict[str, Any]]) -> Verdict:
        factor = self.turn_discount ** (turn - 1)
        details = {**verdict.details, "raw_reward": verdict.reward, "turns_used": turn,
                   "attempts": list(attempts)}
        components = {**verdict.components, "turn_discount": factor}
        return Verdict(reward=verdict.reward * factor, components=components, details=details,
                       masked=verdict.masked, failure=verdict.failure)
