"""Every registered environment passes `nemogym check` (references, garbage, fixtures, seeds)."""

from __future__ import annotations

import pytest

import nemogym
from nemogym.checker import check

BUILTIN = sorted(e.id for e in nemogym.list_envs() if e.plugin is None and "/Test" not in e.id)


def test_the_catalogue_is_not_empty():
    assert "nemogym/Arithmetic-v0" in BUILTIN


@pytest.mark.parametrize("env_id", BUILTIN)
def test_env_passes_the_checker(env_id):
    report = check(env_id, tasks=3)
    failed = [f"{r.name}: {r.detail}" for r in report.results if not r.ok]
    assert report.ok, failed
    names = {r.name for r in report.results}
    assert "gymnasium check_env" in names and "fixtures cover full, zero, malformed" in names


@pytest.mark.parametrize("env_id", BUILTIN)
def test_oracle_rollouts_score_full_and_reverify_identically(env_id, tmp_path):
    import asyncio

    from nemogym.policies.factory import make_policy
    from nemogym.rollout import RolloutConfig, read_records, reverify_file, run_rollouts

    out = tmp_path / "o.jsonl"
    cfg = RolloutConfig(env_id=env_id, episodes=2, repeats=2, concurrency=4, out=out)
    summary = asyncio.run(run_rollouts(cfg, make_policy("oracle")))
    recs = read_records(out)
    assert summary.finished == 4 and len(recs) == 4
    assert all(r.reward == 1.0 and not r.masked for r in recs), [r.verdict for r in recs]
    again = asyncio.run(reverify_file(out, tmp_path / "v.jsonl"))
    assert [r.reward for r in again] == [r.reward for r in recs]
