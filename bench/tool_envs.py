"""Tool-env overhead: env steps/s per domain with policy time excluded, and episode setup cost.

Plays every template's reference script (the oracle; computing the action is not timed) and
times ``reset`` (episode setup: a private copy of the seeded SQLite world) and each ``step``
(tool calls + database work + the user simulator; the last step also verifies). Baselines
measured in the same run: the same tool calls made directly on a db (no env), and building
the world from scratch instead of copying it.

    python bench/tool_envs.py [--reps 5] [--envs nemogym/ITSM-v0,...]

Goal: step < 1 ms and setup < 5 ms, so the env is never the bottleneck next to a model.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

from nemogym.envs.tools.base import reference_calls

import nemogym

DEFAULT_ENVS = ("nemogym/ITSM-v0", "nemogym/CRM-v0", "nemogym/HR-v0", "nemogym/ToolCall-v0")


def _ms(xs: list[float]) -> float:
    return 1000 * statistics.fmean(xs) if xs else float("nan")


def bench_env(env_id: str, reps: int) -> dict[str, Any]:
    env = nemogym.make(env_id)
    n = len(getattr(env, "templates", ())) or min(env.tasks.size or 20, 25)
    tasks = range(n * min(reps, getattr(env, "n_worlds", 1) or 1))
    for i in tasks:  # warm: worlds built, expected dbs computed, imports done
        _play(env, i, [], [], [])
    resets: list[float] = []
    steps: list[float] = []
    finals: list[float] = []
    for _ in range(reps):
        for i in tasks:
            _play(env, i, resets, steps, finals)
    row = {"env": env_id, "episodes": reps * len(tasks), "steps": len(steps) + len(finals),
           "setup_ms": _ms(resets), "step_ms": _ms(steps), "final_step_ms": _ms(finals)}
    all_steps = steps + finals
    row["steps_per_s"] = len(all_steps) / sum(all_steps) if all_steps else float("nan")
    row.update(_baselines(env, tasks))
    return row


def _play(env: Any, i: int, resets: list[float], steps: list[float], finals: list[float]) -> None:
    t = time.perf_counter()
    env.reset(options={"task_index": i})
    resets.append(time.perf_counter() - t)
    for _ in range(100):
        action = env.reference_action() or "Thanks, goodbye."  # policy time: not measured
        t = time.perf_counter()
        _, _, term, trunc, _ = env.step(action)
        dt = time.perf_counter() - t
        if term or trunc:
            finals.append(dt)
            return
        steps.append(dt)


def _baselines(env: Any, tasks: range) -> dict[str, float]:
    """Bare tool calls on a fresh db copy (no env), and a cold world build instead of a copy."""
    cache = getattr(type(env), "world_cache", None)
    if cache is None:
        return {"bare_call_ms": float("nan"), "world_build_ms": float("nan"), "db_copy_ms": float("nan")}
    worlds = cache()
    calls: list[float] = []
    copies: list[float] = []
    for i in tasks:
        task = env.tasks.get(i)
        t = time.perf_counter()
        db = worlds.fresh(task.metadata["world_seed"])
        copies.append(time.perf_counter() - t)
        state = env.state_for(task, db)
        for c in reference_calls(env.reference_steps(task)):
            tool = env.toolset[c["name"]]
            t = time.perf_counter()
            tool.call(c["arguments"], state)
            calls.append(time.perf_counter() - t)
        db.close()
    builds = []
    for seed in range(3):
        t = time.perf_counter()
        type(env).build_world(1000 + seed).close()
        builds.append(time.perf_counter() - t)
    return {"bare_call_ms": _ms(calls), "world_build_ms": _ms(builds), "db_copy_ms": _ms(copies)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--envs", default=",".join(DEFAULT_ENVS))
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, sqlite {__import__('sqlite3').sqlite_version}")
    rows = []
    for env_id in args.envs.split(","):
        try:
            rows.append(bench_env(env_id, args.reps))
        except KeyError as e:
            print(f"skip {env_id}: {e}")
    head = ("env", "episodes", "steps", "steps/s", "step ms", "final step ms", "setup ms",
            "bare call ms", "step/bare", "world build ms", "db copy ms", "build/copy")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ratio = r["step_ms"] / r["bare_call_ms"] if r["bare_call_ms"] == r["bare_call_ms"] else float("nan")
        build_ratio = r["world_build_ms"] / r["db_copy_ms"] if r["db_copy_ms"] == r["db_copy_ms"] else float("nan")
        print(f"| {r['env']} | {r['episodes']} | {r['steps']} | {r['steps_per_s']:.0f} | {r['step_ms']:.3f} | "
              f"{r['final_step_ms']:.3f} | {r['setup_ms']:.3f} | {r['bare_call_ms']:.3f} | {ratio:.1f}x | "
              f"{r['world_build_ms']:.1f} | {r['db_copy_ms']:.3f} | {build_ratio:.0f}x |")
    ok = all((r["step_ms"] if r["step_ms"] == r["step_ms"] else r["final_step_ms"]) < 1.0
             and r["setup_ms"] < 5.0 for r in rows)
    print(f"goal (step < 1 ms, setup < 5 ms): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
