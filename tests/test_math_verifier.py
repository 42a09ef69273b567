"""The math verifier: every labelled bench case, extraction, options, and its documented rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nemogym.verifiers.math import MathOptions, extract, extract_answer, gold_text, verify

from nemogym import Verdict

CASES_FILE = Path(__file__).resolve().parents[1] / "bench" / "data" / "math_cases.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]


def test_the_labelled_set_is_big_and_covers_every_rule():
    cats = {c["category"] for c in CASES}
    assert len(CASES) >= 300
    for needed in ("extraction", "hedging", "hacking", "latex", "units", "percent", "degrees",
                   "plain-text", "assignment", "numeric-tol", "symbolic", "sets", "tuples",
                   "intervals", "matrices", "equations", "inequalities", "choice", "complex",
                   "scientific", "thousands"):
        assert needed in cats
        assert any(c["expected"] for c in CASES if c["category"] == needed) or needed == "hacking"
        assert any(not c["expected"] for c in CASES if c["category"] == needed)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_labelled_case(case):
    v = verify(case["response"], case["gold"])
    assert isinstance(v, Verdict) and not v.masked
    assert v.reward in (0.0, 1.0)
    assert (v.reward == 1.0) == case["expected"], v.details


@pytest.mark.parametrize("response,answer", [
    ("so \\boxed{\\frac{1}{\\sqrt{2}}} done", "\\frac{1}{\\sqrt{2}}"),
    ("\\boxed{1} then \\fbox{2}", "2"),
    ("The final answer is $42$.", "42"),
    ("Final Answer: 3.5", "3.5"),
    ("the answer is 7 because 3+4", "7"),
    ("blah\n#### 1,234", "1,234"),
    ("we get 3 then 17.", "17"),
    ("nothing here", None),
    ("\\boxed{a{b{c}}d}", "a{b{c}}d"),
    ("unbalanced \\boxed{1+{2", "1+{2"),
])
def test_extract_answer(response, answer):
    assert extract_answer(response) == answer


def test_extraction_priority_and_rules():
    assert extract("The final answer is 3. \\boxed{4}").rule == "boxed"
    assert extract("The answer is 3.\n#### 4").rule == "final-answer"
    assert extract("#### 4 and 5").rule == "gsm8k"
    assert extract("ANS=<9> and 10", answer_regex=r"ANS=<(\d+)>").candidates == ["9"]
    assert extract("we get 10", last_number=False).rule == "none"
    assert extract("\\boxed{1} \\boxed{2}").candidates == ["1", "2"]


def test_details_say_what_decided():
    v = verify("\\boxed{0.5}", "\\frac{1}{2}")
    assert v.reward == 1.0
    d = v.details
    assert d["extracted"] == "0.5" and d["extraction"] == "boxed" and d["rule"] == "numeric"
    assert d["answer_normalized"] == "0.5"
    assert d["gold_normalized"] == "1/2"
    w = verify("\\boxed{3}", "4")
    assert w.reward == 0.0 and w.details["reason"] == "answer differs from gold"
    assert verify("no numbers", "4").details["reason"] == "no answer found"


def test_gold_forms():
    assert gold_text("Natalia sold 24 clips.\n#### 72") == "72"
    assert gold_text("so $\\boxed{\\frac{1}{2}}$") == "\\frac{1}{2}"
    assert gold_text(["1", "2"]) == "1, 2"
    assert verify("\\boxed{72}", 72).reward == 1.0
    assert verify("\\boxed{2, 1}", ["1", "2"]).reward == 1.0
    empty = verify("\\boxed{1}", "  ")
    assert empty.masked and "gold" in empty.failure


def test_options():
    assert verify("\\boxed{50\\%}", "0.5").reward == 0.0
    assert verify("\\boxed{50\\%}", "0.5", percent="fraction").reward == 1.0
    assert verify("\\boxed{50\\%}", "50", percent="fraction").reward == 0.0
    assert verify("\\boxed{50\\%}", "50", percent="either").reward == 1.0
    assert verify("we get 10", "10", last_number=False).reward == 0.0
    assert verify("ANS=<9>", "9", answer_regex=r"ANS=<(\d+)>", last_number=False).reward == 1.0
    assert verify("\\boxed{1} no, \\boxed{2}", "2", hedging="last").reward == 1.0
    assert verify("\\boxed{3.14}", "\\pi").reward == 0.0
    assert verify("\\boxed{3.14}", "\\pi", rel_tol=1e-3).reward == 1.0
    with pytest.raises(TypeError, match="unknown math verifier option"):
        verify("1", "1", tolerance=3)
    with pytest.raises(ValueError):
        MathOptions.from_kwargs({"percent": "maybe"})


def test_bad_inputs_are_scored_not_raised():
    assert verify(None, "1").reward == 0.0  # type: ignore[arg-type]
    assert verify(123, "1").reward == 0.0  # type: ignore[arg-type]
    for weird in ["\\boxed{\\frac{}{}}", "\\boxed{(((}", "\\boxed{)(}", "\\boxed{1/0}", "\\boxed{@#!}",
                  "\\boxed{\\begin{pmatrix}}", "\\boxed{x^}", "\\boxed{\\sqrt[}", "\\boxed{^^^}",
                  "\\boxed{\\left( \\right.}", "\\boxed{\"\"}", "\\boxed{0^{-1}}", "\\boxed{\\log(0)}"]:
        v = verify(weird, "1")
        assert v.reward == 0.0 and not v.masked, weird


def test_sympy_fallback_decides_what_the_fast_path_cannot():
    v = verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}")
    assert v.reward == 1.0 and v.details["rule"].startswith("sympy")
    v = verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n-1)}{2}")
    assert v.reward == 0.0


def test_symbolic_disabled_is_undecided_not_wrongly_right():
    v = verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}", symbolic=False)
    assert v.reward == 0.0 and v.details["decided"] is False
