"""Metrics: unbiased pass@k / pass^k against brute force, majority@k, masked episodes."""

from __future__ import annotations

import itertools

import pytest

from nemogym import Verdict
from nemogym.metrics import compute_metrics, default_ks, majority_correct, pass_at_k, pass_hat_k
from nemogym.rollout.records import EpisodeRecord


def _brute(n, c, k, all_of):
    samples = [1] * c + [0] * (n - c)
    combos = list(itertools.combinations(samples, k))
    hit = [all(s) if all_of else any(s) for s in combos]
    return sum(hit) / len(combos)


@pytest.mark.parametrize("n,c,k", [(5, 0, 1), (5, 2, 1), (5, 2, 3), (8, 7, 4), (6, 6, 6), (10, 3, 10)])
def test_estimators_match_enumeration(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(_brute(n, c, k, all_of=False))
    assert pass_hat_k(n, c, k) == pytest.approx(_brute(n, c, k, all_of=True))


def test_k_larger_than_n_is_an_error():
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_majority():
    assert majority_correct([("3", True), ("4", False), ("3", True)]) is True
    assert majority_correct([("4", False), ("4", False), ("3", True)]) is False
    assert majority_correct([(None, True)]) is None


def rec(task, rep, reward, masked=False, extracted=None, subset=None, env="nemogym/X-v0"):
    v = (Verdict.infra_failure("server down") if masked
         else Verdict(reward=reward, details={"extracted": extracted}))
    return EpisodeRecord(env_id=env, task_index=task, repeat=rep, reward=0.0 if masked else reward,
                         masked=masked, verdict=v, subset=subset)


def test_compute_metrics_masks_and_groups():
    records = [
        rec(0, 0, 1.0, extracted="2", subset="a"), rec(0, 1, 0.0, extracted="3", subset="a"),
        rec(0, 2, 1.0, extracted="2", subset="a"),
        rec(1, 0, 0.0, extracted="5", subset="b"), rec(1, 1, 0.0, masked=True, subset="b"),
        rec(1, 2, 0.0, extracted="5", subset="b"),
        rec(0, 0, 0.5, env="nemogym/Y-v0"),
    ]
    m = compute_metrics(records, ks=[1, 2])
    g = m.envs["nemogym/X-v0"]
    assert g.episodes == 6 and g.masked == 1 and g.tasks == 2
    assert g.mean_reward == pytest.approx(2 / 5)  # the masked episode is left out, not a 0
    assert g.pass_at_k[1] == pytest.approx((2 / 3 + 0) / 2)
    assert g.pass_at_k[2] == pytest.approx((pass_at_k(3, 2, 2) + 0) / 2)
    assert g.pass_hat_k[2] == pytest.approx((pass_hat_k(3, 2, 2) + 0) / 2)
    assert g.majority_at_k[2] == pytest.approx(0.5)
    assert g.failures == {"server down": 1}
    assert set(m.subsets["nemogym/X-v0"]) == {"a", "b"}
    assert m.subsets["nemogym/X-v0"]["a"].mean_reward == pytest.approx(2 / 3)
    assert m.envs["nemogym/Y-v0"].mean_reward == 0.5
    assert m.envs["nemogym/Y-v0"].pass_at_k[1] == 0.0  # 0.5 is below the success threshold


def test_all_masked_gives_no_mean():
    g = compute_metrics([rec(0, 0, 0, masked=True)]).envs["nemogym/X-v0"]
    assert g.mean_reward is None and g.masked == 1


def test_default_ks():
    assert default_ks(1) == [1]
    assert default_ks(4) == [1, 2, 4]
    assert default_ks(6) == [1, 2, 4, 6]
