"""Regressions found in review of the math verifier (each failed before its fix)."""

from __future__ import annotations

import pytest
from nemogym.verifiers.math import verify

_EMPTY_HACKS = [r"\boxed{\emptyset}", r"\boxed{\{\}}", r"\boxed{\varnothing}", r"\boxed{,}",
                r"\boxed{;}", r"\boxed{\text{or}}", r"\boxed{and}", "The answer is or",
                "Final answer: ,", r"\boxed{\{\} \cup \{\}}", r"\boxed{x \in \emptyset}"]


@pytest.mark.parametrize("response", _EMPTY_HACKS)
@pytest.mark.parametrize("gold", ["5", "x=5", r"\frac{1}{2}", "-3"])
def test_an_empty_answer_is_not_equal_to_every_gold(response, gold):
    v = verify(response, gold)
    assert v.reward == 0.0 and not v.masked, (response, gold, v.details)


def test_the_empty_set_still_matches_an_empty_set_gold():
    assert verify(r"\boxed{\emptyset}", r"\emptyset").reward == 1.0
    assert verify(r"\boxed{\{\}}", r"\varnothing").reward == 1.0
    assert verify(r"\boxed{\emptyset}", r"\{1\}").reward == 0.0


@pytest.mark.parametrize("response", [r"So, the answer is $\$42$.", r"The answer is $\$42.00$",
                                      r"Final answer: $\$42$ in total."])
def test_an_escaped_dollar_inside_math_mode_is_not_the_closing_dollar(response):
    v = verify(response, "42")
    assert v.reward == 1.0, v.details


def test_inequalities_joined_by_or_equal_a_union_of_intervals():
    gold = r"(-\infty,2)\cup(3,\infty)"
    assert verify(r"\boxed{x<2 \text{ or } x>3}", gold).reward == 1.0
    assert verify(r"\boxed{x>3 \text{ or } x<2}", gold).reward == 1.0
    assert verify(r"\boxed{x<2 \text{ or } x \ge 3}", gold).reward == 0.0
    assert verify(r"\boxed{x<2 \text{ or } x>4}", gold).reward == 0.0
    assert verify(r"\boxed{x<2}", gold).reward == 0.0
    assert verify(r"\boxed{(-\infty,2)\cup(3,\infty)}", r"x<2 \text{ or } x>3").reward == 1.0


@pytest.mark.parametrize("gold", [None, float("nan")])
@pytest.mark.parametrize("response", [r"\boxed{None}", r"\boxed{nan}", r"\boxed{5}"])
def test_a_missing_gold_is_masked_not_graded_against_its_repr(gold, response):
    v = verify(response, gold)
    assert v.masked and v.reward == 0.0, v


def test_mathqa_row_with_a_null_answer_is_masked(tmp_path):
    import json

    from nemogym import make

    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"question": "q", "answer": None}) + "\n"
                    + json.dumps({"question": "q2", "answer": "5"}) + "\n")
    env = make("nemogym/MathQA-v0", data=str(data))
    env.reset(options={"task_index": 0})
    _, reward, *_, info = env.step({"role": "assistant", "content": r"\boxed{None}"})
    assert reward == 0.0 and info["verdict"].masked


@pytest.mark.parametrize("template", [r"{response} vs {gold}: put it in \boxed{}",
                                      "{response} {gold} {answer}", "{response} {gold} {"])
def test_a_judge_template_that_cannot_format_is_refused_up_front(template):
    from nemogym.verifiers.judge import JudgeVerifier

    with pytest.raises(ValueError, match="does not format"):
        JudgeVerifier(object(), template=template)


def test_a_judge_template_with_escaped_braces_works():
    from nemogym.verifiers.judge import JudgeVerifier

    judge = JudgeVerifier(object(), template=r"{response} vs {gold}: in \boxed{{}}")
    assert judge.messages("r", "g")[-1]["content"] == r"r vs g: in \boxed{}"


@pytest.mark.parametrize("response", [
    "Before giving the final answer, let me check the work. 2+3=5. The answer is 5.",
    "To get the final answer we add 2 and 3.\n\nThe answer is 5.",
    "My final answer would be 5.",
    "<think>The answer is 5</think>",
    "<think>so \\boxed{5}</think>\n",
])
def test_final_answer_in_prose_and_a_thinking_only_answer_still_score(response):
    v = verify(response, "5")
    assert v.reward == 1.0, v.details


def test_final_answer_forms_still_extract():
    for response in ("Final answer = 5", "The final answer:  5", "**Final Answer**: 5",
                     "**Final Answer:** $5$", "FINAL ANSWER: 5", "**Final Answer**\n\n\\[ 5 \\]",
                     "Final Answer: The final answer is 5. I hope it is correct."):
        assert verify(response, "5").reward == 1.0, response
    assert verify("The final answer is 6. The answer is 5.", "5").reward == 0.0


def test_percent_word_population_answers_are_whole_people():
    import nemogym

    for difficulty in range(1, 6):
        env = nemogym.make("nemogym/PercentWord-v0", difficulty=difficulty)
        for i in range(400):
            task = env.tasks.get(i)
            if "residents" in task.prompt:
                assert "." not in str(task.answer), (difficulty, task.prompt, task.answer)


def test_an_answer_regex_that_does_not_compile_is_an_invalid_option():
    with pytest.raises(ValueError, match="answer_regex"):
        verify("no box here", "5", answer_regex="(unclosed")
    assert verify("ans=5", "5", answer_regex=r"ans=(\d+)", last_number=False).reward == 1.0


def test_arithmetic_takes_verifier_options_like_every_math_env():
    import nemogym

    env = nemogym.make("nemogym/Arithmetic-v0", verifier_options={"last_number": False})
    env.reset(seed=0)
    answer = env.tasks.get(env.episode.task_index).answer
    _, reward, *_ = env.step({"role": "assistant", "content": f"so we get {answer}"})
    assert reward == 0.0  # the last-number fallback is off
    env.reset(seed=0)
    _, reward, *_ = env.step({"role": "assistant", "content": f"\\boxed{{{answer}}}"})
    assert reward == 1.0


@pytest.mark.parametrize("env_id", ["nemogym/Arithmetic-v0", "nemogym/LinearEquation-v0",
                                    "nemogym/MathQA-v0"])
def test_bad_math_verifier_options_fail_at_construction(env_id):
    import nemogym

    with pytest.raises((TypeError, ValueError)):
        nemogym.make(env_id, verifier_options={"percent": "bad"})
    with pytest.raises((TypeError, ValueError)):
        nemogym.make(env_id, verifier_options={"no_such_option": 1})


@pytest.mark.parametrize("reply, expected", [
    ("**VERDICT**: CORRECT", True), ("__VERDICT__: INCORRECT", False),
    ("VERDICT: `CORRECT`", True), ("VERDICT: [INCORRECT]", False),
    ("**VERDICT:** INCORRECT", False), ("VERDICT:\n\nCORRECT", True),
])
def test_judge_verdicts_with_markdown_around_them_parse(reply, expected):
    from nemogym.verifiers.judge import parse_judgement

    assert parse_judgement(reply) is expected


@pytest.mark.parametrize("response, gold, reward", [
    (r"\boxed{5 \text{ thousand}}", "5", 0.0),
    (r"\boxed{5 \text{ thousand}}", "5000", 1.0),
    (r"\boxed{2.5 \text{ million}}", "2.5", 0.0),
    (r"\boxed{2.5 \text{ million dollars}}", "2500000", 1.0),
    ("The answer is 3 million people.", "3000000", 1.0),
    (r"\boxed{5000000}", "5 million", 1.0),
    (r"\boxed{5 \text{ thousand } 300}", "1500000", 0.0),
    (r"\boxed{12 \text{ cm}}", "12", 1.0),
])
def test_scale_words_multiply_instead_of_being_stripped_as_units(response, gold, reward):
    assert verify(response, gold).reward == reward


@pytest.mark.parametrize("response", [
    "The answer is $5$ or $6$.", r"The answer is \(5\) or \(6\).", "Final answer: $5$, or maybe $6$",
    "The answer is $5$ (or possibly $6$).", "The answer is $x = 5$ or $x = 6$.",
])
def test_alternatives_in_separate_math_spans_are_hedging(response):
    assert verify(response, "5").reward == 0.0
    assert verify(response, "6").reward == 0.0
    assert verify(response, "5, 6").reward == 1.0


@pytest.mark.parametrize("response", ["The answer is $5$ cm$^2$.", "The answer is $$5$$",
                                      "The answer is $5$ because $2+3=5$.", r"The answer is \[5\]"])
def test_a_single_math_span_answer_still_scores(response):
    assert verify(response, "5").reward == 1.0


@pytest.mark.parametrize("response", ["x = 3 or x = 5", "It could be 3 or 5", "Either 4 or 5.",
                                      "so the answer could be 5, or 7"])
def test_last_number_fallback_does_not_reward_alternatives(response):
    v = verify(response, "5")
    assert v.reward == 0.0 and "hedging" in v.details["reason"]


@pytest.mark.parametrize("response", ["We get 12 apples, so 5", "The total is 7 and 5 remain",
                                      "I have 3 cats or more; answer 5", "5 or 5"])
def test_last_number_fallback_still_reads_plain_final_numbers(response):
    assert verify(response, "5").reward == 1.0


def test_alternatives_that_make_up_a_set_gold_still_count():
    assert verify("x = 2 or x = 3", "\\{2, 3\\}").reward == 1.0


@pytest.mark.parametrize("answer, gold, reward", [
    ("\\boxed{123456.1}", "123456", 0.0), ("\\boxed{2.0000001}", "2", 0.0),
    ("\\boxed{123456.0}", "123456", 1.0), ("\\boxed{1.2 \\times 10^{3}}", "1200", 1.0),
    ("\\boxed{0.3333333}", "\\frac13", 1.0),
])
def test_a_decimal_matches_an_integer_gold_only_when_it_is_that_integer(answer, gold, reward):
    assert verify(answer, gold).reward == reward
