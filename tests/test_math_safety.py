"""The math verifier under attack: huge numbers, huge inputs, deep nesting, hangs, fork, threads."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from nemogym.verifiers.math import timeout as tmo
from nemogym.verifiers.math import verify

BOUND_S = 5.0  # every adversarial verification must finish well inside this

ADVERSARIAL = [
    ("\\boxed{10^{10^{10}}}", "10"),
    ("\\boxed{1000000!}", "120"),
    ("\\boxed{(10^{10})!}", "5"),
    ("\\boxed{2^{2^{2^{2^{2^{2}}}}}}", "5"),
    ("\\boxed{9^{9^{9}}}", "x"),
    ("\\boxed{x^{10^{10}}}", "x"),
    ("\\boxed{\\binom{10^{12}}{10^{6}}}", "1"),
    ("\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}", "1"),
    ("\\boxed{" + "(" * 3000 + "1" + ")" * 3000 + "}", "1"),
    ("\\boxed{" + "\\frac{" * 3000 + "}", "1"),
    ("\\sqrt{" * 20000, "1"),
    ("x" * 3_000_000 + "\\boxed{3}", "3"),
    ("\\boxed{" + "1" * 1_000_000 + "}", "3"),
    ("\\boxed{" + "x+" * 200_000 + "1}", "3"),
    ("1 " * 500_000, "1"),
    ("\\boxed{1}" * 50_000, "1"),
    ("The final answer is " + "9" * 100_000, "9"),
    ("\\boxed{(x+1)^{100000}}", "(1+x)^{100000}"),
    ("\\boxed{\\sin(10^{100})}", "0"),
    ("\\boxed{e^{e^{e^{e^{10}}}}}", "1"),
    # regex backtracking bait: long runs of whitespace after every trigger phrase
    ("final answer" + "\n" * 50_000, "1"),
    ("the answer is" + "\n" * 50_000, "1"),
    ("answer:" + " " * 50_000 + "\n", "1"),
    ("####" + "\n" * 50_000, "1"),
    ("Final Answer" + " \t" * 20_000 + "\n", "1"),
    ("\n" * 49_000 + "A", "B"),
    ("(A)" + "\n" * 49_000, "B"),
    ("answer" + " " * 49_000 + ":", "1"),
    ("The answer is 5" + " " * 40_000 + "x", "5"),
    ("the " * 12_000 + "x", "1"),
]


@pytest.mark.parametrize("response,gold", ADVERSARIAL, ids=[f"adv{i}" for i in range(len(ADVERSARIAL))])
def test_adversarial_inputs_finish_within_a_bound(response, gold):
    t0 = time.monotonic()
    v = verify(response, gold, timeout_s=1.0)
    elapsed = time.monotonic() - t0
    assert elapsed < BOUND_S, f"took {elapsed:.1f}s"
    assert v.reward in (0.0, 1.0) and not v.masked


def test_adversarial_right_answers_still_score():
    assert verify("x" * 3_000_000 + "\\boxed{3}", "3").reward == 1.0
    assert verify("\\boxed{1}" * 50_000, "1").reward == 1.0
    assert verify("\\boxed{(x+1)^{100000}}", "(1+x)^{100000}").reward == 1.0


def test_a_hang_in_c_code_is_killed_and_the_worker_replaced():
    tmo.sympy_equal("1", "1", timeout_s=30)  # a warm worker
    before = tmo.worker_restarts()
    t0 = time.monotonic()
    res = tmo._get_pool().call({"mode": "_hang_in_c", "seconds": 60}, 0.5)
    elapsed = time.monotonic() - t0
    assert res.ok is None and "timeout" in res.why
    assert elapsed < 0.5 + tmo.GRACE_S + 2.0
    assert tmo.worker_restarts() == before + 1
    assert tmo.sympy_equal("binomial(n+1,2)", "n*(n+1)/2", timeout_s=30).ok is True


def test_a_python_level_timeout_keeps_the_worker():
    tmo.sympy_equal("1", "1", timeout_s=30)
    before = tmo.worker_restarts()
    # simplify of a big symbolic expression: stopped by the worker's own alarm
    big = "+".join(f"sin(x)**{k}*cos(x)**{30 - k}" for k in range(30))
    res = tmo.sympy_equal(big, "(sin(x)+cos(x))**29", timeout_s=0.2)
    assert res.ok in (None, False)
    assert tmo.worker_restarts() in (before, before + 1)
    assert tmo.sympy_equal("x**2-1", "(x-1)*(x+1)", timeout_s=30).ok is True


def test_timeout_gives_reward_zero_with_reason():
    v = verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}", timeout_s=0.0)
    assert v.reward == 0.0 and not v.masked
    assert v.details["decided"] is False and "could not decide" in v.details["reason"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_gets_its_own_workers_and_leaves_the_parents_alone():
    assert verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}").reward == 1.0
    parent_pool = tmo._get_pool()
    parent_pids = {w.proc.pid for w in parent_pool.idle}
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: verify, then run the exit hook, as a normal exit would
        try:
            ok = verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}").reward == 1.0
            own = {x.proc.pid for x in tmo._get_pool().idle}
            tmo.shutdown()
            os.write(w, b"1" if ok and not (own & parent_pids) else b"0")
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    os.close(r)
    assert tmo._get_pool() is parent_pool
    assert all(x.proc.poll() is None for x in parent_pool.idle)
    assert verify("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n-1)}{2}").reward == 0.0


def test_many_threads_at_once():
    jobs = [("\\boxed{\\binom{n+1}{2}}", "\\frac{n(n+1)}{2}", 1.0),
            ("\\boxed{\\binom{n+1}{2}}", "n^2", 0.0),
            ("\\boxed{x^2+2x+1}", "(x+1)^2", 1.0),
            ("\\boxed{0.5}", "\\frac12", 1.0)] * 6
    with ThreadPoolExecutor(6) as ex:
        got = list(ex.map(lambda j: verify(j[0], j[1]).reward, jobs))
    assert got == [j[2] for j in jobs]


_ATOMS = ["\\frac", "{", "}", "\\sqrt", "[", "]", "(", ")", "x", "y", "2", "3.5", "10", "^", "_",
          "\\pi", "\\cdot", "+", "-", "=", "<", "\\le", ",", "\\{", "\\}", "\\boxed{", "\\text{",
          " or ", "\\%", "!", "i", "e", "\\infty", "\\cup", "\\begin{pmatrix}", "&", "\\\\",
          "\\end{pmatrix}", "\\left(", "\\right)", "|", "\\pm", "°", "$", "#### ", " ", "\\sin",
          "\\log_", "\\binom", "0.\\overline{3}", "3\\frac12", "f(x)", "\\in", "1,000", "e5",
          "\\tan^{-1}", "A", "(B)", ":", ";", "'", '"', "\\", "\\mathrm{", "∞", "−", "</think>"]


def test_random_latex_soup_never_breaks_the_verifier():
    import random

    rng = random.Random(1234)
    for _ in range(1500):
        response = "".join(rng.choice(_ATOMS) for _ in range(rng.randint(1, 25)))
        gold = "".join(rng.choice(_ATOMS) for _ in range(rng.randint(1, 8)))
        t0 = time.monotonic()
        v = verify(response, gold, timeout_s=0.5)
        assert time.monotonic() - t0 < BOUND_S
        assert v.reward in (0.0, 1.0)
        assert not v.masked or v.failure == "the gold answer is empty", (response, gold, v.failure)


def test_a_worker_killed_from_outside_is_replaced_transparently():
    import signal

    assert tmo.sympy_equal("x**2-1", "(x-1)*(x+1)", timeout_s=30).ok is True
    for w in list(tmo._get_pool().idle):
        os.kill(w.proc.pid, signal.SIGKILL)
        w.proc.wait(timeout=5)
    assert tmo.sympy_equal("x**2-1", "(x-1)*(x+1)", timeout_s=30).ok is True


def test_long_lists_in_any_order_stay_fast():
    n = 600
    answer = ", ".join(str(k) for k in range(n))
    gold = ", ".join(str(k) for k in reversed(range(n)))
    t0 = time.monotonic()
    assert verify(f"\\boxed{{{answer}}}", gold).reward == 1.0
    halves = ", ".join(f"\\frac{{{2 * k}}}{{2}}" for k in range(150))
    assert verify(f"\\boxed{{{halves}}}", ", ".join(str(k) for k in reversed(range(150)))).reward == 1.0
    assert time.monotonic() - t0 < BOUND_S
