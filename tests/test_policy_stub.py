"""The OpenAI-compatible stub server: the arithmetic solver, its CLI, and an end-to-end eval."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from fractions import Fraction

import pytest

import nemogym
from nemogym.policies import OpenAIHTTPPolicy, PolicyContext
from nemogym.serve.openai_stub import (
    StubServer,
    UnsolvableError,
    evaluate,
    solve_prompt,
    start_stub_server,
)


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4])
def test_solver_matches_arithmetic_v0_answers(difficulty: int):
    env = nemogym.make("nemogym/Arithmetic-v0", difficulty=difficulty)
    for i in range(150):
        env.reset(options={"task_index": i})
        task = env.episode.task
        value = solve_prompt(task.prompt)
        assert value == Fraction(task.answer), task.prompt


def test_solver_precedence_and_fraction_literals():
    assert evaluate("2 + 3 * 4") == 14
    assert evaluate("(2 + 3) * 4") == 20
    assert evaluate("-(1 - 4) / 6") == Fraction(1, 2)
    assert evaluate("1 / 14/3") == Fraction(3, 14)  # p/q without spaces is one number


@pytest.mark.parametrize("expr", [
    "__import__('os').system('true')", "2 ** 100", "x + 1", "1 / 0", "1.5 + 2", "(" * 200 + "1",
    "9" * 3000, "[1, 2]",
])
def test_solver_rejects_what_is_not_plain_arithmetic(expr: str):
    with pytest.raises(UnsolvableError):
        evaluate(expr)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown stub mode"):
        StubServer("nonsense")


def test_models_and_stats_endpoints():
    url, stop = start_stub_server("arithmetic", model="stub-7b")
    try:
        with urllib.request.urlopen(url + "/models", timeout=10) as r:
            assert json.load(r)["data"][0]["id"] == "stub-7b"
        policy = OpenAIHTTPPolicy(url, "stub-7b")

        async def go():
            try:
                return await policy([{"role": "user", "content": "What is love?"}])
            finally:
                await policy.aclose()

        assert asyncio.run(go()).message["content"].startswith("I cannot solve this")
        with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10) as r:
            stats = json.load(r)
        assert stats["requests"] == 1 and stats["statuses"] == {"200": 1}
        stop.stats.reset()
        assert stop.stats.requests == 0
    finally:
        stop()
    stop()  # idempotent


async def _eval_over_http(url: str, n: int) -> list[float]:
    """Arithmetic-v0 episodes against the HTTP policy, concurrently (one env per episode)."""
    policy = OpenAIHTTPPolicy(url, None, concurrency=8)

    async def episode(i: int) -> float:
        env = nemogym.make("nemogym/Arithmetic-v0")
        obs, _ = await env.areset(seed=i, options={"task_index": i})
        resp = await policy(obs["messages"], context=PolicyContext(env=env, task_index=i))
        _, reward, *_ = await env.astep(resp.message)
        return reward

    try:
        return await asyncio.gather(*[episode(i) for i in range(n)])
    finally:
        await policy.aclose()


def test_cli_server_end_to_end():
    """``python -m nemogym.serve.openai_stub`` in a subprocess; Arithmetic-v0 is solved over HTTP."""
    proc = subprocess.Popen([sys.executable, "-m", "nemogym.serve.openai_stub", "--port", "0",
                             "--mode", "arithmetic", "--model", "cli-model"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "serving http://127.0.0.1:" in line, (line, proc.stderr.read() if proc.poll() else "")
        url = line.split("serving ")[1].strip()
        rewards = asyncio.run(_eval_over_http(url, 40))
        assert rewards == [1.0] * 40
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wrong_every_makes_some_answers_wrong():
    url, stop = start_stub_server("arithmetic", wrong_every=3)
    try:
        rewards = asyncio.run(_eval_over_http(url, 60))
    finally:
        stop()
    assert 0 < rewards.count(0.0) < 60 and rewards.count(1.0) > 20
