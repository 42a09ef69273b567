"""The rollout runner: JSONL records, concurrency, masking, resume after SIGKILL, reverify."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import nemogym
from nemogym import Reply, TaskEnv, Verdict
from nemogym.policies.base import PolicyError, PolicyResponse
from nemogym.rollout import RolloutConfig, completed_keys, read_records, reverify_file, run_rollouts
from nemogym.rollout.records import RecordWriter
from nemogym.tasks import ProceduralTasks, Task


class AnswerPolicy:
    """A real policy (no model): answers with the env's reference, or a fixed wrong answer."""

    name, model = "answer", "none"

    def __init__(self, wrong_for=(), fail_for=(), crash_for=(), delay=0.0):
        self.wrong_for, self.fail_for, self.crash_for, self.delay = wrong_for, fail_for, crash_for, delay
        self.in_flight = self.max_in_flight = self.calls = 0

    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            i = context.task_index
            if i in self.fail_for:
                raise PolicyError("HTTP 500 from server")
            if i in self.crash_for:
                raise KeyError("bad response shape")
            text = "\\boxed{nope}" if i in self.wrong_for else context.env.reference_action()
            return PolicyResponse(message={"role": "assistant", "content": text},
                                  usage={"prompt_tokens": 10, "completion_tokens": 3})
        finally:
            self.in_flight -= 1

    async def aclose(self):
        pass


def test_runner_writes_every_episode(tmp_path):
    out = tmp_path / "r.jsonl"
    pol = AnswerPolicy(wrong_for={3}, delay=0.002)
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=20, repeats=3, concurrency=8, out=out)
    s = asyncio.run(run_rollouts(cfg, pol))
    assert s.finished == 60 and s.masked == 0 and pol.max_in_flight <= 8 and pol.max_in_flight > 1
    recs = read_records(out)
    assert len(recs) == 60 and len({r.key for r in recs}) == 60
    r = next(r for r in recs if r.task_index == 3)
    assert r.reward == 0.0 and not r.masked and r.verdict.details["extracted"] == "nope"
    good = next(r for r in recs if r.task_index == 4)
    assert good.reward == 1.0 and good.turns == 1 and good.usage == {"prompt_tokens": 10, "completion_tokens": 3}
    assert [m["role"] for m in good.messages] == ["system", "user", "assistant"]
    assert good.env_id == "nemogym/Arithmetic-v0" and good.policy == "answer" and good.schema_version == 1
    assert good.timings["total_s"] > 0 and good.seed == cfg.seed_for(4, good.repeat)
    # same task for every repeat
    prompts = {r.messages[1]["content"] for r in recs if r.task_index == 7}
    assert len(prompts) == 1


def test_policy_failures_are_masked_and_the_run_goes_on(tmp_path):
    out = tmp_path / "r.jsonl"
    pol = AnswerPolicy(fail_for={1, 2}, crash_for={5})
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=8, repeats=2, concurrency=4, out=out)
    s = asyncio.run(run_rollouts(cfg, pol))
    recs = read_records(out)
    assert s.finished == 16 and s.masked == 6 and len(recs) == 16
    masked = {r.task_index: r for r in recs if r.masked}
    assert set(masked) == {1, 2, 5}
    assert "HTTP 500" in masked[1].verdict.failure and "KeyError" in masked[5].verdict.failure
    assert all(r.reward == 1.0 for r in recs if not r.masked)


def test_episode_deadline_masks_a_hang(tmp_path):
    pol = AnswerPolicy(delay=10)
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=2, concurrency=2, episode_timeout_s=0.2,
                        out=tmp_path / "r.jsonl")
    t0 = time.monotonic()
    s = asyncio.run(run_rollouts(cfg, pol))
    assert time.monotonic() - t0 < 3 and s.masked == 2
    assert "exceeded 0.2s" in read_records(tmp_path / "r.jsonl")[0].verdict.failure


def test_resume_skips_finished_episodes(tmp_path):
    out = tmp_path / "r.jsonl"
    asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=5, repeats=2, out=out), AnswerPolicy()))
    with pytest.raises(FileExistsError):
        asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=5, out=out), AnswerPolicy()))
    pol = AnswerPolicy()
    s = asyncio.run(run_rollouts(
        RolloutConfig(env_id="Arithmetic-v0", episodes=8, repeats=2, out=out, resume=True), pol))
    assert s.skipped == 10 and s.finished == 6 and pol.calls == 6
    assert len(completed_keys(out)) == 16 and len(read_records(out)) == 16


def test_partial_last_line_is_skipped_and_trimmed(tmp_path):
    out = tmp_path / "r.jsonl"
    asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=3, out=out), AnswerPolicy()))
    with out.open("a") as f:
        f.write('{"env_id": "nemogym/Arithmetic-v0", "task_index": 3, "rep')  # cut by a kill
    assert len(read_records(out)) == 3 and len(completed_keys(out)) == 3
    RecordWriter(out).close()  # opening for append trims the partial tail
    assert out.read_text().endswith("}\n") and len(out.read_text().splitlines()) == 3


KILL_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {testdir!r})
    from test_core_rollout import AnswerPolicy
    from nemogym.rollout import RolloutConfig, run_rollouts
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=400, repeats=1, concurrency=4,
                        out={out!r}, resume=True)
    asyncio.run(run_rollouts(cfg, AnswerPolicy(delay=0.01), keep_records=False))
""")


def test_sigkill_loses_no_finished_episode_and_resume_completes(tmp_path):
    out = str(tmp_path / "r.jsonl")
    script = KILL_SCRIPT.format(testdir=os.path.dirname(__file__), out=out)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if os.path.exists(out) and len(open(out).read().splitlines()) >= 30:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lines = open(out).read().splitlines()
    assert 30 <= len(lines) < 400
    for line in lines[:-1]:
        json.loads(line)  # every complete line parses
    before = completed_keys(out)
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=400, concurrency=16,
                                               out=out, resume=True), AnswerPolicy()))
    assert s.skipped == len(before)
    recs = read_records(out)
    assert len(recs) == 400 and len({r.key for r in recs}) == 400
    assert all(r.reward == 1.0 for r in recs)


def test_reverify_rescores_without_the_policy(tmp_path):
    src, dst = tmp_path / "r.jsonl", tmp_path / "v.jsonl"
    asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=6, out=src),
                             AnswerPolicy(wrong_for={2})))
    # tamper with the stored rewards: reverify must recompute them from the messages
    rows = [json.loads(x) for x in src.read_text().splitlines()]
    for row in rows:
        row["reward"] = 0.5
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    new = asyncio.run(reverify_file(src, dst))
    assert [r.reward for r in sorted(new, key=lambda r: r.task_index)] == [1, 1, 0, 1, 1, 1]
    assert len(read_records(dst)) == 6
    with pytest.raises(ValueError):
        asyncio.run(reverify_file(src, src))


def _gen(rng, d):
    return Task(prompt="count to three, one number per turn", answer="3", reference=["1", "2", "3"])


class CountEnv(TaskEnv):
    async def arespond(self, episode, message):
        if message["content"].strip() == str(episode.turn):
            if episode.turn == 3:
                return Reply(done=True, verdict=Verdict.correct())
            return Reply(messages=[{"role": "user", "content": "next"}])
        return Reply(done=True, verdict=Verdict.wrong(f"expected {episode.turn}"))


class ScriptPolicy(AnswerPolicy):
    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        return PolicyResponse(message={"role": "assistant", "content": context.env.reference_action()})


def test_multi_turn_episodes(tmp_path):
    nemogym.register("nemogym/TestCount-v0", lambda **kw: CountEnv(ProceduralTasks(_gen, name="c"), max_turns=5, **kw),
                     override=True, multi_turn=True)
    out = tmp_path / "r.jsonl"
    asyncio.run(run_rollouts(RolloutConfig(env_id="TestCount-v0", episodes=3, out=out), ScriptPolicy()))
    recs = read_records(out)
    assert all(r.reward == 1.0 and r.turns == 3 for r in recs)
    assert [m["role"] for m in recs[0].messages] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    # the runner's own max_turns bound ends a runaway episode with a reason
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="TestCount-v0", episodes=1, max_turns=2), ScriptPolicy()))
    assert s.records[0].reward == 0 and "max_turns=2" in s.records[0].verdict.reason


def test_gc_threshold_is_restored_after_a_large_run():
    import gc

    before = gc.get_threshold()
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=300, concurrency=300)
    s = asyncio.run(run_rollouts(cfg, AnswerPolicy()))
    assert s.finished == 300 and gc.get_threshold() == before
