"""Regressions found in review of the code verifier and envs (each failed before its fix)."""

from __future__ import annotations

from nemogym.verifiers.code import IOCase, IOTests, verify
from nemogym.verifiers.code.compare import outputs_match


def test_float_mode_compares_integer_tokens_exactly():
    assert outputs_match("1000000999\n", "1000000000\n", "float")[0] is False
    assert outputs_match("999999\n", "1000000\n", "float")[0] is False
    assert outputs_match("3 0.3333333\n", "3 0.333333333\n", "float")[0] is True
    assert outputs_match("-0\n", "0\n", "float")[0] is True
    assert outputs_match("1000000000.0\n", "1000000000\n", "float")[0] is True
    assert outputs_match("2.0000000001\n", "2\n", "float")[0] is True


def test_float_mode_integer_off_by_a_little_scores_zero_end_to_end():
    tests = IOTests(cases=(IOCase("\n", "1000000000\n"),), compare="float")
    assert verify("```python\nprint(1000000999)\n```", tests).reward == 0.0
    assert verify("```python\nprint(10**9)\n```", tests).reward == 1.0
