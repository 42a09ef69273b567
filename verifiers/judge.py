"""An LLM judge over any ``nemogym.policies.base.Policy``: a prompt template and a parsed verdict.

``JudgeVerifier(policy).averify(response, gold, question=...)`` asks the policy whether the
response's final answer matches the reference and scores 1.0 (CORRECT) or 0.0 (INCORRECT).
A judge that raises, times out, or answers something unparseable gives a *masked* verdict
(``Verdict.infra_failure``) with the reason, never a plain 0: the episode says nothing about
the model. ``averify_math_with_judge`` runs the math verifier first and asks the judge only
when the symbolic check could not decide (or, with ``when="not-correct"``, whenever it says 0).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from nemogym._async import run_sync
from nemogym.policies.base import Policy, PolicyContext, Sampling
from nemogym.verdict import Verdict

DEFAULT_SYSTEM = "You are a strict, careful grader of math answers."
DEFAULT_TEMPLATE = """Decide whether the student's final answer is mathematically equivalent to the reference answer.
Ignore the reasoning; judge only the final answer. Equivalent forms (1/2 vs 0.5, reordered
sets, x = 3 vs 3) count as correct; several different final answers count as incorrect.

Question:
{question}

Reference answer:
{gold}

Student response:
{response}

End your reply with one line: VERDICT: CORRECT or VERDICT: INCORRECT"""

# markdown around the label or the word counts too: "**VERDICT**: CORRECT", "VERDICT: `CORRECT`"
_VERDICT = re.compile(r"VERDICT[\s*_]*[:=][\s*_`\[]*(CORRECT|INCORRECT)\b", re.IGNORECASE)
_BARE = re.compile(r"^\W*(CORRECT|INCORRECT)\W*$", re.IGNORECASE)


def parse_judgement(text: str) -> bool | None:
    """``VERDICT: CORRECT`` -> True, ``VERDICT: INCORRECT`` -> False (the last one counts);
    a reply that is only the word also counts; anything else is None (unparseable)."""
    found = _VERDICT.findall(text or "")
    if found:
        return found[-1].upper() == "CORRECT"
    m = _BARE.match((text or "").strip())
    return m.group(1).upper() == "CORRECT" if m else None


class JudgeVerifier:
    """Grade a response against a gold answer by asking ``policy`` (see module docstring)."""

    def __init__(self, policy: Policy, *, template: str = DEFAULT_TEMPLATE,
                 system_prompt: str | None = DEFAULT_SYSTEM, sampling: Sampling | None = None,
                 timeout_s: float = 60.0, parse: Callable[[str], bool | None] = parse_judgement,
                 max_response_chars: int = 20_000):
        for key in ("{response}", "{gold}"):
            if key not in template:
                raise ValueError(f"judge template must contain {key}")
        try:  # a stray brace (\boxed{}) would otherwise raise out of every averify call
            template.format(response="", gold="", question="")
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"judge template does not format ({type(e).__name__}: {e}); "
                             "write literal braces as {{ and }}") from None
        self.policy = policy
        self.template = template
        self.system_prompt = system_prompt
        self.sampling = sampling or Sampling(temperature=0.0, max_tokens=1024)
        self.timeout_s = timeout_s
        self.parse = parse
        self.max_response_chars = max_response_chars

    def messages(self, response: str, gold: Any, question: str = "") -> list[dict[str, Any]]:
        """The chat the judge sees (the response is cut to its last ``max_response_chars``)."""
        text = response[-self.max_response_chars:]
        prompt = self.template.format(response=text, gold=gold, question=question or "(not given)")
        msgs = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return msgs + [{"role": "user", "content": prompt}]

    async def averify(self, response: str, gold: Any, question: str = "") -> Verdict:
        """1.0/0.0 from the judge's verdict; masked when the judge fails in any way."""
        if not isinstance(response, str):
            return Verdict.wrong(f"response must be text, got {type(response).__name__}")
        msgs = self.messages(response, gold, question)
        name = getattr(self.policy, "name", type(self.policy).__name__)
        try:
            out = await asyncio.wait_for(
                self.policy(msgs, None, sampling=self.sampling, context=PolicyContext()),
                self.timeout_s)
        except TimeoutError:
            return Verdict.infra_failure(f"judge timed out after {self.timeout_s}s", judge=name)
        except Exception as e:  # noqa: BLE001 - any judge failure is infrastructure, masked
            return Verdict.infra_failure(f"judge failed: {type(e).__name__}: {e}", judge=name)
        try:
            content = out.message.get("content")
            text = content if isinstance(content, str) else str(content or "")
            decision = self.parse(text)
        except Exception as e:  # noqa: BLE001
            return Verdict.infra_failure(f"judge reply could not be read: {type(e).__name__}: {e}", judge=name)
        if decision is None:
            return Verdict.infra_failure("judge reply has no parseable verdict", judge=name,
                                         judge_reply=text[-500:])
        details = {"judge": name, "judge_reply": text[-500:], "rule": "judge"}
        if decision:
            return Verdict(reward=1.0, details=details)
        return Verdict.wrong("the judge says the answer is incorrect", **details)

    def verify(self, response: str, gold: Any, question: str = "") -> Verdict:
        """Synchronous ``averify``."""
        return run_sync(self.averify(response, gold, question))


async def averify_math_with_judge(response: str, gold: Any, judge: JudgeVerifier, *,
                                  question: str = "", when: str = "undecided",
                                  **math_options: Any) -> Verdict:
    """The math verifier first; the judge only when it could not decide (``when="undecided"``)
    or whenever it did not give full reward (``when="not-correct"``, hedging excepted)."""
    if when not in ("undecided", "not-correct"):
        raise ValueError(f"when must be 'undecided' or 'not-correct', not {when!r}")
    from nemogym.verifiers.math import verify as math_verify

    verdict = await asyncio.to_thread(math_verify, response, gold, **math_options)
    if verdict.reward == 1.0 or verdict.masked:
        return verdict
    reason = str(verdict.details.get("reason", ""))
    undecided = verdict.details.get("decided") is False
    if reason.startswith("hedging") or (when == "undecided" and not undecided):
        return verdict
    judged = await judge.averify(response, gold, question)
    judged.details["math_verdict"] = verdict.details
    return judged
