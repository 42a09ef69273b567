"""The LLM judge: parsed verdicts, and every judge failure masked (never a plain 0)."""

from __future__ import annotations

import asyncio

import pytest
from nemogym.verifiers.judge import JudgeVerifier, averify_math_with_judge, parse_judgement

from nemogym.policies.base import Policy, PolicyError, PolicyResponse


class ScriptedJudge:
    """A policy that answers every request with ``reply`` (or raises / sleeps)."""

    name = "scripted-judge"
    model = None

    def __init__(self, reply: str = "VERDICT: CORRECT", *, error: Exception | None = None,
                 delay: float = 0.0):
        self.reply, self.error, self.delay = reply, error, delay
        self.seen: list[list[dict]] = []

    async def __call__(self, messages, tools=None, *, sampling=None, context=None) -> PolicyResponse:
        self.seen.append(messages)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return PolicyResponse(message={"role": "assistant", "content": self.reply})

    async def aclose(self) -> None:
        pass


def test_scripted_judge_is_a_policy():
    assert isinstance(ScriptedJudge(), Policy)


@pytest.mark.parametrize("text,expected", [
    ("The answers match.\nVERDICT: CORRECT", True),
    ("VERDICT: INCORRECT", False),
    ("verdict: **correct**", True),
    ("VERDICT: CORRECT ... on reflection VERDICT: INCORRECT", False),
    ("CORRECT", True),
    ("incorrect.", False),
    ("I think it is probably right", None),
    ("", None),
    ("The answer is correct but the VERDICT is unclear", None),
])
def test_parse_judgement(text, expected):
    assert parse_judgement(text) is expected


def test_judge_scores_and_sees_the_prompt():
    judge = ScriptedJudge("Same value.\nVERDICT: CORRECT")
    v = JudgeVerifier(judge).verify("so it is 0.5", "1/2", question="Half of one?")
    assert v.reward == 1.0 and not v.masked and v.details["rule"] == "judge"
    prompt = judge.seen[0][-1]["content"]
    assert "Half of one?" in prompt and "1/2" in prompt and "so it is 0.5" in prompt
    no = JudgeVerifier(ScriptedJudge("VERDICT: INCORRECT")).verify("3", "4")
    assert no.reward == 0.0 and not no.masked


@pytest.mark.parametrize("judge,why", [
    (ScriptedJudge(error=PolicyError("server down")), "judge failed"),
    (ScriptedJudge(error=RuntimeError("boom")), "judge failed"),
    (ScriptedJudge(delay=5.0), "timed out"),
    (ScriptedJudge("maybe?"), "no parseable verdict"),
])
def test_judge_failures_are_masked(judge, why):
    v = JudgeVerifier(judge, timeout_s=0.2).verify("3", "3")
    assert v.masked and v.reward == 0.0 and why in v.failure


def test_template_must_hold_the_response_and_gold():
    with pytest.raises(ValueError):
        JudgeVerifier(ScriptedJudge(), template="{question} only")


async def test_judge_as_fallback_only_when_math_cannot_decide():
    judge = ScriptedJudge("VERDICT: CORRECT")
    jv = JudgeVerifier(judge)
    # decided by the math verifier: the judge is not asked
    v = await averify_math_with_judge("\\boxed{0.5}", "1/2", jv)
    assert v.reward == 1.0 and not judge.seen
    v = await averify_math_with_judge("\\boxed{3}", "4", jv)
    assert v.reward == 0.0 and not judge.seen
    # undecided (symbolic check disabled): the judge decides
    v = await averify_math_with_judge("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}", jv,
                                      symbolic=False)
    assert v.reward == 1.0 and v.details["rule"] == "judge" and len(judge.seen) == 1
    # "not-correct": asked on any 0, except hedging, which stays 0
    v = await averify_math_with_judge("\\boxed{\\text{one half}}", "1/2", jv, when="not-correct")
    assert v.reward == 1.0 and len(judge.seen) == 2
    v = await averify_math_with_judge("\\boxed{1} or \\boxed{2}", "2", jv, when="not-correct")
    assert v.reward == 0.0 and len(judge.seen) == 2
    # a failing judge as fallback: masked, not 0
    bad = JudgeVerifier(ScriptedJudge(error=PolicyError("503")))
    v = await averify_math_with_judge("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}", bad, symbolic=False)
    assert v.masked
