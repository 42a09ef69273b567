"""Rollout runner overhead: episodes/s at 1, 64, 1024 and 8192 concurrent episodes.

Two policies, each with a baseline measured in the same run:
* in-process instant policy (returns the reference answer at once). Baseline: a bare loop
  calling env.reset/env.step directly, no runner, no records. The difference is the runner's
  cost per episode (scheduling, records, JSONL write).
* the OpenAI-compatible stub server (``nemogym.serve.openai_stub``, another process on
  127.0.0.1) through ``OpenAIHTTPPolicy``. Baseline: the same requests sent by the same policy
  class without any env, runner or records, at the same concurrency.

    python bench/rollout_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nemogym
from nemogym.policies.base import PolicyResponse
from nemogym.policies.openai_http import OpenAIHTTPPolicy
from nemogym.rollout import RolloutConfig, run_rollouts

ENV = "nemogym/Arithmetic-v0"


class InstantPolicy:
    """Answers with the env's reference immediately: measures everything but the model."""

    name, model = "instant", None

    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        return PolicyResponse(message={"role": "assistant", "content": context.env.reference_action()})

    async def aclose(self):
        pass


async def bare_loop(n: int) -> float:
    """The env alone: sequential areset + astep with the reference answer, nothing else."""
    env = nemogym.make(ENV)
    t0 = time.perf_counter()
    for i in range(n):
        await env.areset(seed=i, options={"task_index": i})
        await env.astep(env.reference_action())
    return n / (time.perf_counter() - t0)


async def runner_eps(policy, episodes: int, concurrency: int) -> tuple[float, int]:
    try:
        with tempfile.TemporaryDirectory() as d:
            cfg = RolloutConfig(env_id=ENV, episodes=episodes, concurrency=concurrency,
                                out=Path(d) / "r.jsonl")
            s = await run_rollouts(cfg, policy, keep_records=False)
    finally:
        await policy.aclose()
    return s.finished / s.elapsed_s, s.masked


async def raw_http_eps(url: str, episodes: int, concurrency: int) -> float:
    env = nemogym.make(ENV)
    prompts = []
    for i in range(min(episodes, 512)):
        obs, _ = env.reset(options={"task_index": i})
        prompts.append(obs["messages"])
    pol = OpenAIHTTPPolicy(url, "stub", concurrency=concurrency, timeout_s=120)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await pol(prompts[i % len(prompts)])

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(episodes)))
    eps = episodes / (time.perf_counter() - t0)
    await pol.aclose()
    return eps


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stub() -> tuple[str, subprocess.Popen]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nemogym.serve.openai_stub", "--mode", "arithmetic",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    return f"http://127.0.0.1:{port}/v1", proc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer episodes (a smoke run)")
    args = ap.parse_args()
    levels = [1, 64, 1024, 8192]
    n_local = {1: 2000, 64: 8000, 1024: 16000, 8192: 32000}
    n_http = {1: 300, 64: 3000, 1024: 6000, 8192: 16000}
    if args.quick:
        n_local = {k: max(v // 10, k) for k, v in n_local.items()}
        n_http = {k: max(v // 10, k) for k, v in n_http.items()}

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    bare = asyncio.run(bare_loop(5000 if not args.quick else 500))
    print(f"baseline, bare env.areset+astep loop (no runner): {bare:,.0f} episodes/s "
          f"({1e3 / bare:.3f} ms/episode)\n")
    print(f"{'policy':<10} {'concurrency':>11} {'episodes':>9} {'runner eps/s':>13} "
          f"{'baseline eps/s':>15} {'ratio':>6} {'runner ms/ep':>13} {'masked':>7}")
    rows = []
    for c in levels:
        eps, masked = asyncio.run(runner_eps(InstantPolicy(), n_local[c], c))
        over = 1e3 / eps - 1e3 / bare
        rows.append(("instant", c, n_local[c], eps, bare, masked, over))
        print(f"{'instant':<10} {c:>11} {n_local[c]:>9} {eps:>13,.0f} {bare:>15,.0f} {eps / bare:>6.2f} "
              f"{over:>13.3f} {masked:>7}")
    url, proc = start_stub()
    try:
        for c in levels:
            base = asyncio.run(raw_http_eps(url, n_http[c], c))
            pol = OpenAIHTTPPolicy(url, "stub", concurrency=c, timeout_s=120)
            eps, masked = asyncio.run(runner_eps(pol, n_http[c], c))
            over = 1e3 / eps - 1e3 / base
            print(f"{'http stub':<10} {c:>11} {n_http[c]:>9} {eps:>13,.0f} {base:>15,.0f} "
                  f"{eps / base:>6.2f} {over:>13.3f} {masked:>7}")
    finally:
        proc.terminate()
        proc.wait()
    print("\nrunner ms/ep = 1000/runner eps - 1000/baseline eps: what the runner adds per episode "
          "(records written to JSONL included).")


if __name__ == "__main__":
    main()
