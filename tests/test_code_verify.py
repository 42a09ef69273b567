"""verify/averify in the real default sandbox: right, wrong, slow, crashing, broken, masked."""

import asyncio
import time

import pytest
from nemogym.sandboxes import Sandbox, SandboxError, default_sandbox
from nemogym.verifiers.code import FunctionTests, IOCase, IOTests, averify, feedback, verify

ADD = FunctionTests(test="def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0\n",
                    entry_point="add", timeout_s=3)
ECHO_SUM = IOTests(cases=(IOCase("1 2\n", "3\n"), IOCase("10 -3\n", "7\n"), IOCase("0 0\n", "0\n")))
SUM_PROGRAM = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture(scope="module")
def sandbox():
    sb = default_sandbox()
    yield sb
    sb.close()


def fenced(code: str) -> str:
    return f"Here is my solution:\n```python\n{code}\n```\n"


class BrokenSandbox(Sandbox):
    """A sandbox whose runs fail the way a real one does when it cannot start or is killed."""

    def run(self, argv, **kwargs):
        raise SandboxError("could not start: bwrap: Creating new namespace failed")

    def run_python(self, code, **kwargs):
        raise SandboxError("killed by the host (OOM killer)")


# -- function-style ----------------------------------------------------------------------
def test_correct_function_scores_one(sandbox):
    v = verify(fenced("def add(a, b):\n    return a + b"), ADD, sandbox=sandbox)
    assert v.reward == 1.0 and not v.masked and v.components == {"tests_passed": 1.0}
    assert v.details["isolation"] == "bubblewrap" and v.details["calls"] == 2


def test_wrong_function_scores_zero_with_the_failing_call(sandbox):
    v = verify(fenced("def add(a, b):\n    return a * b"), ADD, sandbox=sandbox)
    assert v.reward == 0.0 and not v.masked
    assert "assertion failed (test line 2)" in v.reason
    assert v.details["last_call"] == {"args": "(1, 2)", "kwargs": None, "returned": "2"}
    assert "candidate(1, 2) returned 2" in feedback(v)


def test_candidate_exception_and_expected_exception(sandbox):
    v = verify(fenced("def add(a, b):\n    raise KeyError('boom')"), ADD, sandbox=sandbox)
    assert v.reward == 0.0 and "KeyError" in v.reason
    raising = FunctionTests(
        test="def check(candidate):\n    try:\n        candidate(0)\n    except ZeroDivisionError:\n"
             "        pass\n    else:\n        raise AssertionError('no error')\n    assert candidate(2) == 0.5\n",
        entry_point="inv", timeout_s=3)
    assert verify(fenced("def inv(x):\n    return 1 / x"), raising, sandbox=sandbox).reward == 1.0
    assert verify(fenced("def inv(x):\n    return 1 / x if x else 0"), raising, sandbox=sandbox).reward == 0.0


def test_rich_values_cross_intact(sandbox):
    tests = FunctionTests(test="""
def check(candidate):
    r = candidate((1, 2), {"k": [1, 2]}, {3}, frozenset({4}), b"xy", 1 + 2j, None, 2.5, True)
    assert r == ((1, 2), {"k": [1, 2]}, {3}, frozenset({4}), b"xy", 1 + 2j, None, 2.5, True)
    assert type(r[0]) is tuple and type(r[8]) is bool
    assert candidate(2 ** 200)[0] == 2 ** 200
    assert candidate(key="v") == ()
""", entry_point="echo", timeout_s=3)
    program = "def echo(*args, key=None):\n    return args"
    assert verify(fenced(program), tests, sandbox=sandbox).reward == 1.0


def test_function_timeout_is_zero_with_the_reason(sandbox):
    tests = FunctionTests(test=ADD.test, entry_point="add", timeout_s=1)
    start = time.monotonic()
    v = verify(fenced("def add(a, b):\n    while True:\n        pass"), tests, sandbox=sandbox)
    assert v.reward == 0.0 and not v.masked and "time limit exceeded" in v.reason
    assert v.details["timed_out"] is True and time.monotonic() - start < 8
    assert "Last call: candidate(1, 2) did not return." in feedback(v)


def test_a_test_that_swallows_everything_cannot_hide_a_dead_or_hung_program(sandbox):
    lenient = FunctionTests(test="def check(candidate):\n    try:\n        candidate(1)\n    except:\n        pass\n",
                            entry_point="f", timeout_s=1)
    assert verify("def f(x):\n    return x", lenient, sandbox=sandbox, extract=False).reward == 1.0
    v = verify("import os\ndef f(x):\n    os._exit(0)", lenient, sandbox=sandbox, extract=False)
    assert v.reward == 0.0 and "exited during a call" in v.reason
    v = verify("def f(x):\n    while True:\n        pass", lenient, sandbox=sandbox, extract=False)
    assert v.reward == 0.0 and "time limit exceeded" in v.reason


@pytest.mark.parametrize("program, reason", [
    ("def add(a, b) return a", "SyntaxError"),
    ("def plus(a, b):\n    return a + b", "defines no 'add'"),
    ("add = 5", "not callable"),
    ("import numpy_that_does_not_exist\ndef add(a, b): return a + b", "ModuleNotFoundError"),
])
def test_programs_that_fail_to_load(sandbox, program, reason):
    v = verify(program, ADD, sandbox=sandbox, extract=False)
    assert v.reward == 0.0 and not v.masked and reason in v.reason


def test_site_packages_are_opt_in(sandbox):
    program = "import pydantic\ndef add(a, b):\n    return a + b"
    assert "ModuleNotFoundError" in verify(program, ADD, sandbox=sandbox, extract=False).reason
    with_site = FunctionTests(test=ADD.test, entry_point="add", timeout_s=3, site_packages=True)
    assert verify(program, with_site, sandbox=sandbox, extract=False).reward == 1.0


def test_no_code_is_zero_with_the_reason(sandbox):
    v = verify("I would add the numbers.", ADD, sandbox=sandbox)
    assert v.reward == 0.0 and not v.masked and v.reason == "no code found in the response"
    assert v.details["no_code"] is True


def test_broken_test_code_is_masked_not_zero(sandbox):
    broken = FunctionTests(test="def check(candidate):\n    assert candidate(1) ==\n", entry_point="f")
    v = verify("def f(x): return x", broken, sandbox=sandbox, extract=False)
    assert v.masked and "tests are broken" in v.failure and "SyntaxError" in v.failure
    unsendable = FunctionTests(test="def check(candidate):\n    candidate(lambda: 1)\n", entry_point="f")
    v = verify("def f(x): return x", unsendable, sandbox=sandbox, extract=False)
    assert v.masked and "cannot be sent" in v.failure


def test_failing_sandbox_is_masked_never_zero():
    broken = BrokenSandbox()
    v = verify(fenced("def add(a, b):\n    return a + b"), ADD, sandbox=broken)
    assert v.masked and v.reward == 0.0 and "killed by the host" in v.failure
    v = verify(fenced(SUM_PROGRAM), ECHO_SUM, sandbox=broken)
    assert v.masked and "sandbox failed" in v.failure


def test_humaneval_style_completion(sandbox):
    stub = 'def inc(x: int) -> int:\n    """Return x + 1."""\n'
    tests = FunctionTests(test="def check(candidate):\n    assert candidate(1) == 2\n",
                          entry_point="inc", code_prompt=stub, timeout_s=3)
    assert verify("    return x + 1\n", tests, sandbox=sandbox).reward == 1.0
    assert verify(fenced("    return x + 2"), tests, sandbox=sandbox).reward == 0.0


# -- stdin/stdout --------------------------------------------------------------------------
def test_io_correct_and_wrong(sandbox):
    v = verify(fenced(SUM_PROGRAM), ECHO_SUM, sandbox=sandbox)
    assert v.reward == 1.0 and v.details["passed"] == 3 and v.details["isolation"] == "bubblewrap"
    v = verify(fenced("a, b = map(int, input().split())\nprint(a - b)"), ECHO_SUM, sandbox=sandbox)
    assert v.reward == 0.0 and "case 1 of 3: wrong answer" in v.reason
    fail = v.details["first_failure"]
    assert fail["input"] == "1 2\n" and fail["expected"] == "3\n" and fail["got"] == "-1\n"
    assert "Expected output:\n3" in feedback(v)


def test_io_partial_credit_is_the_fraction_passed(sandbox):
    tests = IOTests(cases=ECHO_SUM.cases, partial_credit=True)
    v = verify(fenced("a, b = map(int, input().split())\nprint(a + b if a else 1)"), tests, sandbox=sandbox)
    assert v.reward == pytest.approx(2 / 3) and v.components["cases_passed"] == pytest.approx(2 / 3)
    assert v.details["first_failure"]["case"] == 2


def test_io_all_or_nothing_stops_early(sandbox):
    cases = tuple(IOCase(f"{i} 0\n", f"{i}\n") for i in range(12))
    v = verify(fenced("print(-1)"), IOTests(cases=cases, max_parallel=2), sandbox=sandbox)
    assert v.reward == 0.0 and v.details["cases_run"] == 2


def test_io_float_and_exact_modes(sandbox):
    circle = IOTests(cases=(IOCase("1\n", "3.141592653589793\n"),), compare="float")
    assert verify(fenced("print(round(3.14159265, 8))"), circle, sandbox=sandbox).reward == 1.0
    assert verify(fenced("print(3.14)"), circle, sandbox=sandbox).reward == 0.0
    exact = IOTests(cases=(IOCase("", " *\n**\n"),), compare="exact")
    assert verify(fenced("print(' *')\nprint('**')"), exact, sandbox=sandbox).reward == 1.0
    assert verify(fenced("print('*')\nprint('**')"), exact, sandbox=sandbox).reward == 0.0


@pytest.mark.parametrize("program, reason", [
    ("import sys\nsys.exit(3)", "runtime error (exit code 3)"),
    ("raise ValueError('bad input')", "runtime error (exit code 1)"),
    ("import time\ntime.sleep(5)", "time limit exceeded (0.5s)"),
    ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", "output limit exceeded"),
    ("x = bytearray(2 << 30)", ""),
])
def test_io_failures_are_zero_with_the_reason(sandbox, program, reason):
    tests = IOTests(cases=(IOCase("1 2\n", "3\n"),), case_timeout_s=0.5, memory_mb=256)
    v = verify(program, tests, sandbox=sandbox, extract=False)
    assert v.reward == 0.0 and not v.masked and reason in v.reason
    if "ValueError" in program:
        assert "bad input" in v.details["first_failure"]["stderr"]


# -- async ---------------------------------------------------------------------------------
async def test_averify_does_not_block_the_event_loop(sandbox):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    start = time.monotonic()
    v = await averify(fenced("import time\ntime.sleep(0.6)\ndef add(a, b):\n    return a + b"), ADD,
                      sandbox=sandbox)
    elapsed = time.monotonic() - start
    task.cancel()
    assert v.reward == 1.0 and elapsed >= 0.6
    assert ticks >= 0.5 * elapsed / 0.01 * 0.5  # the loop kept running while the program slept


async def test_many_concurrent_verifications(sandbox):
    good, bad = fenced("def add(a, b):\n    return a + b"), fenced("def add(a, b):\n    return 0")
    verdicts = await asyncio.gather(*(averify(good if i % 2 else bad, ADD, sandbox=sandbox) for i in range(12)))
    assert [v.reward for v in verdicts] == [0.0, 1.0] * 6
    assert not any(v.masked for v in verdicts)
