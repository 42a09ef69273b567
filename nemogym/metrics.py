"""Metrics over episode records: mean reward, pass@k, pass^k, majority@k, per env and subset.

Masked episodes (infrastructure failures) are counted apart and left out of every mean and
estimator: they say nothing about the model.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from nemogym.rollout.records import EpisodeRecord


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): P(at least one of k samples out of n is correct)."""
    if k > n:
        raise ValueError(f"k={k} > n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased pass^k (tau-bench): P(all k samples out of n are correct) = C(c,k)/C(n,k)."""
    if k > n:
        raise ValueError(f"k={k} > n={n}")
    return math.comb(c, k) / math.comb(n, k)


def majority_correct(answers: Sequence[tuple[Any, bool]]) -> bool | None:
    """Whether the most common answer is correct; None if no answer is comparable.

    Ties go to the answer seen first, so the result is deterministic.
    """
    usable = [(a, ok) for a, ok in answers if a is not None]
    if not usable:
        return None
    counts = Counter(a for a, _ in usable)
    best = max(counts.values())
    winner = next(a for a, _ in usable if counts[a] == best)
    return any(ok for a, ok in usable if a == winner)


class GroupMetrics(BaseModel):
    """Metrics of one group of episodes (an env, or an env's subset)."""

    episodes: int = 0
    masked: int = 0
    tasks: int = 0
    mean_reward: float | None = None
    stderr: float | None = None
    pass_at_k: dict[int, float] = Field(default_factory=dict)
    pass_hat_k: dict[int, float] = Field(default_factory=dict)
    majority_at_k: dict[int, float] = Field(default_factory=dict)
    failures: dict[str, int] = Field(default_factory=dict)


class Metrics(BaseModel):
    """Per-env metrics, and per-subset metrics inside each env."""

    envs: dict[str, GroupMetrics] = Field(default_factory=dict)
    subsets: dict[str, dict[str, GroupMetrics]] = Field(default_factory=dict)


def _answer(rec: EpisodeRecord) -> Any:
    d = rec.verdict.details
    for key in ("answer_key", "answer_normalized", "normalized", "extracted"):
        if d.get(key) is not None:
            v = d[key]
            return v if isinstance(v, str | int | float) else repr(v)
    return None


def group_metrics(records: Sequence[EpisodeRecord], ks: Iterable[int] = (1,),
                  success_threshold: float = 1.0) -> GroupMetrics:
    """Metrics of ``records``; an episode succeeds when ``reward >= success_threshold``."""
    g = GroupMetrics(episodes=len(records))
    live = [r for r in records if not r.masked]
    g.masked = len(records) - len(live)
    g.failures = dict(Counter((r.verdict.failure or "unknown")[:160] for r in records if r.masked))
    by_task: dict[int, list[EpisodeRecord]] = defaultdict(list)
    for r in live:
        by_task[r.task_index].append(r)
    g.tasks = len(by_task)
    if not live:
        return g
    rewards = [r.reward for r in live]
    g.mean_reward = sum(rewards) / len(rewards)
    if len(rewards) > 1:
        var = sum((x - g.mean_reward) ** 2 for x in rewards) / (len(rewards) - 1)
        g.stderr = math.sqrt(var / len(rewards))
    for k in sorted(set(ks)):
        eligible = [sorted(rs, key=lambda r: r.repeat) for rs in by_task.values() if len(rs) >= k]
        if not eligible:
            continue
        p, ph, maj = [], [], []
        for rs in eligible:
            c = sum(r.reward >= success_threshold for r in rs)
            p.append(pass_at_k(len(rs), c, k))
            ph.append(pass_hat_k(len(rs), c, k))
            m = majority_correct([(_answer(r), r.reward >= success_threshold) for r in rs[:k]])
            if m is not None:
                maj.append(float(m))
        g.pass_at_k[k] = sum(p) / len(p)
        g.pass_hat_k[k] = sum(ph) / len(ph)
        if maj:
            g.majority_at_k[k] = sum(maj) / len(maj)
    return g


def compute_metrics(records: Iterable[EpisodeRecord], ks: Iterable[int] = (1,),
                    success_threshold: float = 1.0) -> Metrics:
    """Group ``records`` by env (and by subset within env) and compute each group's metrics."""
    ks = list(ks)
    by_env: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for r in records:
        by_env[r.env_id].append(r)
    out = Metrics()
    for env_id, recs in sorted(by_env.items()):
        out.envs[env_id] = group_metrics(recs, ks, success_threshold)
        subsets: dict[str, list[EpisodeRecord]] = defaultdict(list)
        for r in recs:
            if r.subset is not None:
                subsets[str(r.subset)].append(r)
        if subsets:
            out.subsets[env_id] = {s: group_metrics(rs, ks, success_threshold)
                                   for s, rs in sorted(subsets.items())}
    return out


def default_ks(repeats: int) -> list[int]:
    """1, then powers of two up to ``repeats``, then ``repeats`` itself."""
    ks, k = [1], 2
    while k <= repeats:
        ks.append(k)
        k *= 2
    if repeats not in ks and repeats > 0:
        ks.append(repeats)
    return ks
