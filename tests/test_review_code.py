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


def test_function_tests_pass_ints_longer_than_4300_digits_both_ways():
    from nemogym.verifiers.code import FunctionTests

    tests = FunctionTests(test="import math\ndef check(candidate):\n"
                               "    assert candidate(2000) == math.factorial(2000)\n"
                               "    assert candidate(10**5000 - 1) == 10**5000\n",
                          entry_point="f")
    program = "```python\nimport math\ndef f(n):\n    return math.factorial(n) if n < 10**4 else n + 1\n```"
    v = verify(program, tests)
    assert v.reward == 1.0, v.reason
    wrong = "```python\nimport math\ndef f(n):\n    return math.factorial(n) + 1\n```"
    assert verify(wrong, tests).reward == 0.0


def test_code_fenced_inside_a_markdown_list_item_is_dedented():
    from nemogym.verifiers.code.extract import extract_program

    text = "1. The code:\n   ```python\n   def f(x):\n       return x\n   ```\n2. Done."
    assert extract_program(text, entry_point="f").code == "def f(x):\n    return x\n"


def test_a_crlf_response_is_extracted_without_its_closing_fence():
    from nemogym.verifiers.code.extract import extract_program

    text = "Here:\r\n```python\r\ndef f(x):\r\n    return x\r\n```\r\nDone.\r\n"
    assert extract_program(text, entry_point="f").code == "def f(x):\n    return x\n"


def test_codecontests_shaped_tests_load():
    import json

    from nemogym.verifiers.code import spec_from_row
    from nemogym.verifiers.code.spec import io_cases

    shape = {"input": ["1 2\n", "5 7\n"], "output": ["3\n", "12\n"]}
    assert io_cases(shape) == (IOCase("1 2\n", "3\n"), IOCase("5 7\n", "12\n"))
    assert io_cases(json.dumps(shape)) == io_cases(shape)
    tests = spec_from_row({"public_tests": shape}, tests_field="public_tests")
    assert isinstance(tests, IOTests) and len(tests.cases) == 2
    program = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    assert verify(program, tests).reward == 1.0


def test_a_full_rewrite_of_a_humaneval_stub_gets_the_stubs_imports():
    from nemogym.verifiers.code import FunctionTests
    from nemogym.verifiers.code.extract import extract_program

    stub = ('from typing import List\nimport math\n\n\ndef f(numbers: List[float], t: float) -> bool:\n'
            '    """doc"""\n')
    tests = FunctionTests(test="def check(candidate):\n    assert candidate([1.0, 2.0], 0.5) is False\n",
                          entry_point="f", code_prompt=stub)
    full = "```python\ndef f(numbers: List[float], t: float) -> bool:\n    return math.inf < 0\n```"
    assert verify(full, tests).reward == 1.0
    code = extract_program(full, entry_point="f", code_prompt=stub).code
    assert code.startswith("from typing import List\nimport math\ndef f(")
    assert verify("```python\ndef f(numbers: List[float], t: float) -> bool:\n    return True\n```",
                  tests).reward == 0.0


def test_debug_output_on_stderr_does_not_fail_a_correct_program():
    tests = IOTests(cases=(IOCase("2 3\n", "5\n"),))
    program = ("import sys\na, b = map(int, input().split())\n"
               "for i in range(4000):\n    print('debug line', i, 'x' * 40, file=sys.stderr)\n"
               "print(a + b)\n")  # ~250 KB of stderr, more than the old 64 KiB shared cap
    v = verify(program, tests, extract=False)
    assert v.reward == 1.0, v.reason


def test_an_output_flood_is_still_cut_and_scored_zero():
    tests = IOTests(cases=(IOCase("\n", "5\n"),))
    v = verify("while True:\n    print('y' * 1000)\n", tests, extract=False)
    assert v.reward == 0.0 and not v.masked
