"""Program extraction, output comparison and test-spec parsing (no sandbox needed)."""

import json

import pytest
from nemogym.verifiers.code import (
    FunctionTests,
    IOTests,
    SpecError,
    extract_program,
    io_cases,
    outputs_match,
    spec_from_row,
)


def test_last_python_block_wins_by_default():
    text = "First:\n```python\nx = 1\n```\nThen:\n```python\nprint(2)\n```\n"
    ext = extract_program(text)
    assert ext.source == "fenced" and ext.code == "print(2)\n" and ext.blocks == 2


def test_longest_strategy():
    text = "```python\nimport os\nprint(os.sep)\n```\n```python\nprint(1)\n```"
    assert extract_program(text, strategy="longest").code == "import os\nprint(os.sep)\n"


def test_block_defining_the_entry_point_is_preferred_over_a_later_usage_example():
    text = ("```python\ndef solve(x):\n    return x * 2\n```\nUsage:\n```python\nprint(solve(3))\n```")
    assert extract_program(text, entry_point="solve").code.startswith("def solve")
    assert extract_program(text).code == "print(solve(3))\n"


def test_python_blocks_beat_untagged_and_other_languages():
    text = "```\nnot python\n```\n```py\nprint('py')\n```\n```cpp\nint main(){}\n```"
    assert extract_program(text).code == "print('py')\n"
    assert extract_program("```\nprint(1)\n```").code == "print(1)\n"


def test_only_other_languages_is_no_code_with_the_reason():
    ext = extract_program("```cpp\nint main() { return 0; }\n```")
    assert ext.code is None and "no Python code block" in ext.reason and "cpp" in ext.reason


def test_raw_code_without_fences():
    assert extract_program("def f(x):\n    return x\n").source == "raw"
    assert extract_program("import sys\nprint(sys.stdin.read())").code.startswith("import sys")


@pytest.mark.parametrize("text", ["", "   ", "I don't know.", "42", "The answer is x", "hello"])
def test_prose_is_not_code(text):
    ext = extract_program(text)
    assert ext.code is None and ext.source == "none" and ext.reason


def test_unclosed_fence_still_counts():
    assert extract_program("Here:\n```python\nprint('cut off')\n").code == "print('cut off')\n"


def test_thinking_is_ignored():
    text = "<think>```python\nprint('draft')\n```</think>\n```python\nprint('final')\n```"
    assert extract_program(text).code == "print('final')\n"
    assert extract_program("<think>```python\nprint('draft')\n```").code is None


def test_humaneval_style_completion_is_appended_to_the_code_prompt():
    stub = 'def inc(x):\n    """Add one."""\n'
    body = "    return x + 1\n"
    ext = extract_program(body, entry_point="inc", code_prompt=stub)
    assert ext.code == stub + body
    fenced = extract_program(f"```python\n{body}```", entry_point="inc", code_prompt=stub)
    assert fenced.code == stub + body
    full = "```python\ndef inc(x):\n    return x + 1\n```"
    assert extract_program(full, entry_point="inc", code_prompt=stub).code == "def inc(x):\n    return x + 1\n"


def test_non_text_is_no_code():
    assert extract_program(None).code is None  # type: ignore[arg-type]


# -- comparison --------------------------------------------------------------------------
def test_exact_comparison():
    assert outputs_match("a b\n", "a b\n", "exact") == (True, None)
    ok, why = outputs_match("a b", "a b\n", "exact")
    assert not ok and "characters" in why
    ok, why = outputs_match("a c\n", "a b\n", "exact")
    assert not ok and "character 2" in why


def test_whitespace_comparison():
    assert outputs_match("1  2\n3\n\n", "1 2 3", "whitespace")[0]
    ok, why = outputs_match("1 2", "1 2 3", "whitespace")
    assert not ok and "2 tokens, expected 3" in why
    ok, why = outputs_match("1 5 3", "1 2 3", "whitespace")
    assert not ok and "token 2" in why


def test_float_comparison():
    assert outputs_match("3.14159265", "3.141592653589793", "float", 1e-6)[0]
    assert outputs_match("1000000.5", "1000000.0", "float", 1e-6)[0]  # relative tolerance
    assert not outputs_match("3.15", "3.14", "float", 1e-6)[0]
    assert outputs_match("2.5", "2.5", "whitespace")[0] is not False
    assert not outputs_match("nan", "1.0", "float")[0]
    assert not outputs_match("inf", "1e308", "float")[0]
    assert outputs_match("YES 1.0", "YES 1", "float")[0]
    assert not outputs_match("NO 1.0", "YES 1", "float")[0]


# -- specs -------------------------------------------------------------------------------
def test_function_row():
    t = spec_from_row({"entry_point": "f", "tests": "def check(candidate):\n    assert candidate() == 1\n"})
    assert isinstance(t, FunctionTests) and t.entry_point == "f" and t.timeout_s == 10.0
    t = spec_from_row({"entry_point": "f", "tests": "def check(c): pass", "timeout_s": 3}, timeout_s=None)
    assert t.timeout_s == 3.0


def test_io_rows_in_every_shape():
    cases = [{"input": "1\n", "output": "2\n"}]
    assert spec_from_row({"tests": cases}).cases[0].output == "2\n"
    apps = {"inputs": ["1\n", "2\n"], "outputs": ["2\n", "3\n"]}
    assert len(spec_from_row({"tests": json.dumps(apps)}).cases) == 2
    t = spec_from_row({"tests": cases, "compare": "float", "partial_credit": True}, compare="exact")
    assert isinstance(t, IOTests) and t.compare == "exact" and t.partial_credit


@pytest.mark.parametrize("row, message", [
    ({"entry_point": "f"}, "no tests"),
    ({"tests": []}, "no tests"),
    ({"style": "function", "tests": "def check(c): pass"}, "no entry point"),
    ({"style": "weird", "tests": "x"}, "unknown test style"),
    ({"tests": [{"input": "1"}]}, "'input' and 'output'"),
    ({"tests": {"inputs": ["1"], "outputs": []}}, "1 inputs but 0 outputs"),
    ({"tests": "{not json"}, "not valid JSON"),
    ({"tests": [{"input": "1", "output": "1"}], "compare": "fuzzy"}, "compare must be one of"),
    ({"entry_point": "not valid", "tests": "def check(c): pass"}, "not a Python identifier"),
])
def test_bad_rows_say_what_is_wrong(row, message):
    with pytest.raises(SpecError, match=message):
        spec_from_row(row)


def test_io_cases_rejects_non_strings():
    with pytest.raises(SpecError, match="strings"):
        io_cases([{"input": 1, "output": "1"}])
