"""The async rollout runner: N tasks x K repeats, concurrently, multi-turn, one JSONL line each.

Failures never stop a run: a ``PolicyError`` or any exception from the policy, the env or the
verifier masks that episode with the reason (``masked=True``), the episode is still written,
and the workers move on. ``resume=True`` skips the episodes the output file already holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nemogym.policies.base import Policy, PolicyContext, PolicyError, PolicyResponse, Sampling
from nemogym.registry import canonical_id, make
from nemogym.rollout.records import EpisodeRecord, RecordWriter, TurnTrace, completed_keys
from nemogym.verdict import Verdict


@dataclass
class RolloutConfig:
    """What to play: ``episodes`` tasks (indices ``start_index``..) x ``repeats`` each."""

    env_id: str
    episodes: int = 10
    repeats: int = 1
    concurrency: int = 32
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    start_index: int = 0
    base_seed: int = 0
    max_turns: int = 64
    episode_timeout_s: float | None = None
    sampling: Sampling | None = None
    out: str | Path | None = None
    resume: bool = False

    def seed_for(self, task_index: int, repeat: int) -> int:
        """Deterministic per-episode seed: same run config, same seeds."""
        return self.base_seed + 100_003 * task_index + repeat


@dataclass
class RolloutSummary:
    """What a run did."""

    out: str | None
    planned: int
    skipped: int
    finished: int
    masked: int
    elapsed_s: float
    records: list[EpisodeRecord] = field(default_factory=list)

    @property
    def episodes_per_s(self) -> float:
        return self.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _EnvPool:
    """Reuses env instances across episodes (an env is used by one episode at a time)."""

    def __init__(self, env_id: str, kwargs: dict[str, Any]):
        self.env_id, self.kwargs, self.free = env_id, kwargs, []

    def acquire(self) -> Any:
        return self.free.pop() if self.free else make(self.env_id, **self.kwargs)

    def release(self, env: Any) -> None:
        self.free.append(env)

    def close(self) -> None:
        for env in self.free:
            try:
                env.close()
            except Exception:  # noqa: BLE001, S110 - closing is best effort
                pass
        self.free.clear()


def _new_record(policy: Policy, *, env_id: str, task_index: int, repeat: int, seed: int) -> EpisodeRecord:
    return EpisodeRecord(env_id=env_id, task_index=task_index, repeat=repeat, seed=seed,
                         policy=getattr(policy, "name", type(policy).__name__),
                         model=getattr(policy, "model", None), created_at=time.time())


async def play_episode(env: Any, policy: Policy, *, env_id: str, task_index: int, repeat: int,
                       seed: int, max_turns: int, sampling: Sampling | None = None,
                       record: EpisodeRecord | None = None) -> EpisodeRecord:
    """Play one episode to the end and return its record; never raises for policy/env failures.

    ``record`` (optional) is the record to fill in, so that a caller that cuts the episode
    short still holds what it did so far.
    """
    t0 = time.perf_counter()
    rec = record or _new_record(policy, env_id=env_id, task_index=task_index, repeat=repeat, seed=seed)
    try:
        return await _play(env, policy, rec, t0, env_id=env_id, task_index=task_index, repeat=repeat,
                           seed=seed, max_turns=max_turns, sampling=sampling)
    except Exception as e:  # noqa: BLE001 - a broken policy or env (wrong types) masks the episode
        return _finish(rec, Verdict.infra_failure(f"episode raised: {type(e).__name__}: {e}"), t0)


async def _play(env: Any, policy: Policy, rec: EpisodeRecord, t0: float, *, env_id: str,
                task_index: int, repeat: int, seed: int, max_turns: int,
                sampling: Sampling | None) -> EpisodeRecord:
    policy_s = env_s = 0.0
    usage: dict[str, int] = {}
    try:
        obs, info = await env.areset(seed=seed, options={"task_index": task_index})
    except Exception as e:  # noqa: BLE001
        return _finish(rec, Verdict.infra_failure(f"env reset raised: {type(e).__name__}: {e}"), t0)
    rec.task_id, rec.subset = info.get("task_id"), info.get("subset")
    rec.tools = obs.get("tools", [])
    messages = rec.messages = obs["messages"]
    rec.usage = usage  # filled in place: a record cut by the deadline keeps what happened so far
    verdict: Verdict | None = None
    for turn in range(max_turns):
        ctx = PolicyContext(env=env, env_id=env_id, task_index=task_index, repeat=repeat,
                            turn=turn, seed=seed)
        t1 = time.perf_counter()
        try:
            resp = await policy(messages, obs.get("tools") or None, sampling=sampling, context=ctx)
        except PolicyError as e:
            verdict = Verdict.infra_failure(f"policy failed: {e}")
            break
        except Exception as e:  # noqa: BLE001
            verdict = Verdict.infra_failure(f"policy raised: {type(e).__name__}: {e}")
            break
        t2 = time.perf_counter()
        policy_s += t2 - t1
        if not isinstance(resp, PolicyResponse):
            verdict = Verdict.infra_failure(
                f"policy returned {type(resp).__name__}, not a PolicyResponse")
            break
        for k, v in (resp.usage or {}).items():
            if isinstance(v, int):
                usage[k] = usage.get(k, 0) + v
        rec.traces.append(TurnTrace(prompt_token_ids=resp.prompt_token_ids, token_ids=resp.token_ids,
                                    logprobs=resp.logprobs, finish_reason=resp.finish_reason))
        rec.turns = turn + 1
        try:
            obs, _reward, terminated, truncated, info = await env.astep(resp.message)
        except Exception as e:  # noqa: BLE001
            messages = [*messages, resp.message]
            verdict = Verdict.infra_failure(f"env step raised: {type(e).__name__}: {e}")
            break
        finally:
            env_s += time.perf_counter() - t2
        messages = rec.messages = obs["messages"]
        if terminated or truncated:
            verdict = info.get("verdict")
            if not isinstance(verdict, Verdict):
                verdict = Verdict.infra_failure("env ended the episode without a Verdict in info")
            break
    if verdict is None:
        verdict = Verdict.wrong(f"no verdict after the runner's max_turns={max_turns}")
    rec.messages = messages
    rec.usage = usage
    rec.timings = {"policy_s": policy_s, "env_s": env_s}
    return _finish(rec, verdict, t0)


def _finish(rec: EpisodeRecord, verdict: Verdict, t0: float) -> EpisodeRecord:
    rec.verdict = verdict
    rec.reward = 0.0 if verdict.masked else float(verdict.reward)
    rec.masked = verdict.masked
    rec.timings["total_s"] = time.perf_counter() - t0
    return rec


async def _discard(env: Any) -> None:
    """Release the episode an env was cut in (``TaskEnv.aclose``) and close it; best effort."""
    try:
        if hasattr(env, "aclose"):
            await asyncio.wait_for(env.aclose(), 10)
        else:
            env.close()
    except Exception:  # noqa: BLE001, S110 - releasing is best effort
        pass


@contextlib.contextmanager
def _fewer_gc_passes(n_workers: int):
    """With thousands of episodes in flight, the collector's young-generation passes walk all
    their live state over and over (measured: a third of the runner's time at 8,192 in flight).
    Raise the gen-0 threshold for the run and restore it after."""
    old = gc.get_threshold()
    if n_workers >= 256 and old[0] < 10_000:
        gc.set_threshold(10_000, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def plan(config: RolloutConfig, done: set[tuple[str, int, int]]) -> Iterator[tuple[int, int]]:
    """The (task_index, repeat) pairs still to play, task-major."""
    env_id = canonical_id(config.env_id)
    for i in range(config.start_index, config.start_index + config.episodes):
        for r in range(config.repeats):
            if (env_id, i, r) not in done:
                yield i, r


async def run_rollouts(config: RolloutConfig, policy: Policy, *,
                       on_episode: Callable[[EpisodeRecord], None] | None = None,
                       keep_records: bool = True) -> RolloutSummary:
    """Play the configured episodes with ``concurrency`` workers, appending each as it ends."""
    env_id = canonical_id(config.env_id)
    done = completed_keys(config.out) if (config.resume and config.out) else set()
    if config.out and not config.resume and Path(config.out).exists() and Path(config.out).stat().st_size:
        raise FileExistsError(f"{config.out} exists: pass resume=True (--resume) or another --out")
    todo = list(plan(config, done))
    planned = config.episodes * config.repeats
    writer = RecordWriter(config.out) if config.out else None
    pool = _EnvPool(env_id, config.env_kwargs)
    run_id = uuid.uuid4().hex[:12]
    records: list[EpisodeRecord] = []
    masked = finished = 0
    it = iter(todo)
    t0 = time.perf_counter()

    async def play(task_index: int, repeat: int) -> EpisodeRecord:
        seed = config.seed_for(task_index, repeat)
        rec = _new_record(policy, env_id=env_id, task_index=task_index, repeat=repeat, seed=seed)
        t_start = time.perf_counter()
        try:
            env = pool.acquire()
        except Exception as e:  # noqa: BLE001 - an env that cannot be built masks its episodes
            return _finish(rec, Verdict.infra_failure(f"env make raised: {type(e).__name__}: {e}"), t_start)
        coro = play_episode(env, policy, env_id=env_id, task_index=task_index, repeat=repeat, seed=seed,
                            max_turns=config.max_turns, sampling=config.sampling, record=rec)
        try:
            rec = await (coro if config.episode_timeout_s is None
                         else asyncio.wait_for(coro, config.episode_timeout_s))
        except TimeoutError:
            # An env cut mid-step may be in any state: release its episode and close it.
            await _discard(env)
            return _finish(rec, Verdict.infra_failure(f"episode exceeded {config.episode_timeout_s}s"),
                           t_start)
        pool.release(env)
        return rec

    async def worker() -> None:
        nonlocal masked, finished
        for task_index, repeat in it:
            rec = await play(task_index, repeat)
            rec.env_kwargs, rec.run_id = config.env_kwargs, run_id
            masked += rec.masked
            finished += 1
            if writer:
                writer.write(rec)
            if keep_records:
                records.append(rec)
            if on_episode:
                on_episode(rec)

    tasks: list[asyncio.Task[None]] = []
    n_workers = max(1, min(config.concurrency, len(todo)))
    try:
        with _fewer_gc_passes(n_workers):
            tasks = [asyncio.ensure_future(worker()) for _ in range(n_workers)]
            await asyncio.gather(*tasks)
    finally:
        # If one worker failed (a full disk, a raising on_episode), stop the others before the
        # writer closes under them.
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if writer:
            writer.close()
        pool.close()
    return RolloutSummary(out=str(config.out) if config.out else None, planned=planned,
                          skipped=planned - len(todo), finished=finished,
                          masked=masked, elapsed_s=time.perf_counter() - t0, records=records)
