"""Throughput of ``OpenAIHTTPPolicy`` against the local stub server, vs a bare aiohttp client.

The stub runs in a subprocess (echo mode); both clients send the same Chat Completions body
with the same concurrency limit, so the ratio is the policy layer's own cost (semaphore, body
building, retries bookkeeping, response parsing into ``PolicyResponse``).

    python bench/policy_http.py [--requests 4000] [--concurrency 1 64 1024 8192] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time

import aiohttp

from nemogym.policies import OpenAIHTTPPolicy

MESSAGES = [{"role": "system", "content": "Solve the arithmetic problem."},
            {"role": "user", "content": "Compute (3 + 4) * 5/6."}]


async def bare_aiohttp(url: str, n: int, concurrency: int) -> float:
    """Baseline: one session, a semaphore, POST + json.loads; no parsing, no retries."""
    sem = asyncio.Semaphore(concurrency)
    conn = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    body = json.dumps({"model": "m", "messages": MESSAGES}).encode()
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120),
                                     headers={"Content-Type": "application/json"}) as s:
        async def one() -> None:
            async with sem, s.post(url + "/chat/completions", data=body) as r:
                json.loads(await r.read())

        t0 = time.perf_counter()
        await asyncio.gather(*[one() for _ in range(n)])
        return time.perf_counter() - t0


async def policy_calls(url: str, n: int, concurrency: int) -> float:
    policy = OpenAIHTTPPolicy(url, "m", concurrency=concurrency, timeout_s=120)
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*[policy(MESSAGES) for _ in range(n)])
        return time.perf_counter() - t0
    finally:
        await policy.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 64, 1024, 8192])
    ap.add_argument("--rounds", type=int, default=3, help="best of this many runs, alternating")
    args = ap.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "nemogym.serve.openai_stub", "--port", "0",
                               "--mode", "echo"], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split("serving ")[1].strip()
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"python {platform.python_version()}, aiohttp {aiohttp.__version__}; stub: {url}")
        print(f"{'concurrency':>11} {'requests':>8} {'bare req/s':>11} {'policy req/s':>12} "
              f"{'policy/bare':>11}")
        for c in args.concurrency:
            n = max(args.requests, c) if c > 1 else min(args.requests, 1000)
            asyncio.run(bare_aiohttp(url, min(n, 200), c))  # warm up the server
            bare = pol = float("inf")
            for _ in range(args.rounds):  # alternate, so background load hits both alike
                bare = min(bare, asyncio.run(bare_aiohttp(url, n, c)))
                pol = min(pol, asyncio.run(policy_calls(url, n, c)))
            print(f"{c:>11} {n:>8} {n / bare:>11.0f} {n / pol:>12.0f} {bare / pol:>11.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
