"""Regression tests from the review of the core package (runner, records, reverify, policies, CLI)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from typer.testing import CliRunner

import nemogym
from nemogym import Reply, TaskEnv, Verdict
from nemogym.checker import check
from nemogym.cli import app
from nemogym.policies.base import PolicyResponse
from nemogym.policies.builtin import ReplayPolicy
from nemogym.policies.openai_http import parse_chat_completion
from nemogym.rollout import RolloutConfig, completed_keys, read_records, reverify_file, run_rollouts
from nemogym.rollout.records import EpisodeRecord, RecordWriter
from nemogym.tasks import ProceduralTasks, Task


class ShapePolicy:
    """A policy with a bug: for some tasks it returns something that is not a PolicyResponse."""

    name, model = "shape", None

    def __init__(self, bad_for=(), delay=0.01):
        self.bad_for, self.delay = bad_for, delay

    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        if context.task_index in self.bad_for:
            return {"role": "assistant", "content": "a dict, not a PolicyResponse"}
        await asyncio.sleep(self.delay)
        return PolicyResponse(message={"role": "assistant", "content": context.env.reference_action()})

    async def aclose(self):
        pass


def test_a_policy_returning_the_wrong_type_masks_the_episode_and_the_run_goes_on(tmp_path):
    out = tmp_path / "r.jsonl"
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=12, concurrency=4, out=out)
    s = asyncio.run(run_rollouts(cfg, ShapePolicy(bad_for={3})))
    recs = {r.task_index: r for r in read_records(out)}
    assert s.finished == 12 and len(recs) == 12 and s.masked == 1
    assert recs[3].masked and "PolicyResponse" in recs[3].verdict.failure
    assert all(r.reward == 1.0 for i, r in recs.items() if i != 3)


def test_an_env_that_cannot_be_built_masks_episodes_instead_of_crashing(tmp_path):
    cfg = RolloutConfig(env_id="Arithmetic-v0", episodes=3, env_kwargs={"no_such_option": 1},
                        out=tmp_path / "r.jsonl")
    s = asyncio.run(run_rollouts(cfg, ShapePolicy()))
    recs = read_records(tmp_path / "r.jsonl")
    assert s.finished == 3 and s.masked == 3 and len(recs) == 3
    assert "no_such_option" in recs[0].verdict.failure


class BadObsEnv(TaskEnv):
    """An env with a bug: its step returns an observation without messages."""

    async def astep(self, action):
        obs, reward, term, trunc, info = await super().astep(action)
        return {"oops": 1}, reward, term, trunc, info


def test_an_env_returning_a_broken_observation_is_masked(tmp_path):
    nemogym.register("nemogym/TestBadObs-v0",
                     lambda **kw: BadObsEnv(ProceduralTasks(lambda r, d: Task("q", "a"), name="b"), max_turns=3),
                     override=True)
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="TestBadObs-v0", episodes=2), ShapePolicy()))
    assert s.finished == 2 and s.masked == 2 and "KeyError" in s.records[0].verdict.failure


class TeardownCount(TaskEnv):
    setups = teardowns = closes = 0

    async def asetup(self, episode):
        TeardownCount.setups += 1

    async def ateardown(self, episode):
        TeardownCount.teardowns += 1

    async def arespond(self, episode, message):
        return Reply(messages=[{"role": "user", "content": "go on"}])

    def verify(self, task, response):
        return Verdict.correct()

    def close(self):
        TeardownCount.closes += 1
        super().close()


class SlowOnSecondTurn(ShapePolicy):
    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        if context.turn >= 1:
            await asyncio.sleep(10)
        return PolicyResponse(message={"role": "assistant", "content": "turn"})


def test_episode_deadline_in_a_multi_turn_env_releases_the_env_and_times_the_episode(tmp_path):
    nemogym.register("nemogym/TestTeardown-v0",
                     lambda **kw: TeardownCount(ProceduralTasks(lambda r, d: Task("q", "a"), name="t"), max_turns=5),
                     override=True)
    TeardownCount.setups = TeardownCount.teardowns = TeardownCount.closes = 0
    cfg = RolloutConfig(env_id="TestTeardown-v0", episodes=3, concurrency=3, episode_timeout_s=0.3)
    t0 = time.monotonic()
    s = asyncio.run(run_rollouts(cfg, SlowOnSecondTurn()))
    assert time.monotonic() - t0 < 5 and s.masked == 3
    # every env cut mid-episode is closed, and its episode's resources released
    assert TeardownCount.setups == 3 and TeardownCount.teardowns == 3 and TeardownCount.closes == 3
    rec = s.records[0]
    assert "exceeded 0.3s" in rec.verdict.failure and rec.policy == "shape"
    assert 0.2 < rec.timings["total_s"] < 3


def test_a_complete_last_line_without_newline_is_kept_not_trimmed(tmp_path):
    out = tmp_path / "r.jsonl"
    asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=3, out=out), ShapePolicy()))
    text = out.read_text()
    out.write_text(text.rstrip("\n"))  # e.g. a file rewritten by "\n".join(lines)
    assert len(completed_keys(out)) == 3
    RecordWriter(out).close()
    assert len(read_records(out)) == 3 and out.read_text().endswith("}\n")
    # resume then adds only the missing episodes, and every key is on disk once
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=5, out=out, resume=True),
                                 ShapePolicy()))
    assert s.skipped == 3 and s.finished == 2
    assert sorted(r.task_index for r in read_records(out)) == [0, 1, 2, 3, 4]


def _children() -> int:
    return sum(1 for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == os.getpid())


def _ppid(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_reverify_closes_the_envs_it_builds(tmp_path):
    src, dst = tmp_path / "r.jsonl", tmp_path / "v.jsonl"
    asyncio.run(run_rollouts(RolloutConfig(env_id="MathWithPython-v0", episodes=3, out=src),
                             nemogym.policies.make_policy("oracle")))
    before = _children()
    new = asyncio.run(reverify_file(src, dst))
    assert [r.reward for r in new] == [1.0, 1.0, 1.0]
    deadline = time.monotonic() + 5
    while _children() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children() <= before


def test_replay_skips_lines_that_are_not_utf8(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"task_index": 0, "response": "a"}\n\xff\xfe not text\n{"task_index": 1, "response": "b"}\n')
    p = ReplayPolicy(path)
    assert set(p.episodes[None]) == {(0, 0), (1, 0)} and p.skipped_lines == 1


def test_logprob_parsing_is_linear_in_the_generation_length():
    n = 40_000
    data = {"choices": [{"message": {"role": "assistant", "content": "x"}, "logprobs": {"content": [
        {"token": f"token_id:{i}", "logprob": -0.5} for i in range(n)]}}]}
    t0 = time.perf_counter()
    resp = parse_chat_completion(data)
    assert time.perf_counter() - t0 < 0.3
    assert len(resp.logprobs) == n and resp.token_ids[-1] == n - 1


class SyncHang(TaskEnv):
    verify_timeout_s = 0.3

    def verify(self, task, response):
        time.sleep(3)
        return Verdict.correct()


def test_a_hanging_sync_verify_is_masked_within_the_verify_timeout():
    env = SyncHang(ProceduralTasks(lambda r, d: Task("q", "a"), name="h"))
    env.reset(seed=0)
    t0 = time.monotonic()
    _o, reward, terminated, _t, info = env.step("a")
    assert time.monotonic() - t0 < 2
    assert terminated and info["verdict"].masked and "timed out" in info["verdict"].failure


class BrokenFixtures(TaskEnv):
    def verify(self, task, response):
        return Verdict.correct(1.0 if response == "a" else 0.0)

    def fixtures(self):
        raise RuntimeError("fixture table is broken")


def test_check_reports_an_env_whose_fixtures_raise():
    nemogym.register("nemogym/TestBrokenFixtures-v0",
                     lambda **kw: BrokenFixtures(ProceduralTasks(lambda r, d: Task("q", "a"), name="f")),
                     override=True)
    report = check("TestBrokenFixtures-v0", tasks=2)
    assert not report.ok
    assert any("fixture table is broken" in r.detail for r in report.results if not r.ok)


cli = CliRunner()


@pytest.mark.parametrize("args, needle", [
    (["eval", "--env", "Arithmetic-v0", "--policy", "replay:no/such/file.jsonl"], "replay file not found"),
    (["eval", "--records", "no/such/records.jsonl"], "does not exist"),
    (["eval", "--env", "Arithmetic-v0", "--k", "0"], "--k"),
    (["eval", "--env", "Arithmetic-v0", "--episodes", "-3"], "--episodes"),
    (["rollout", "--env", "Arithmetic-v0", "--repeats", "0"], "--repeats"),
    (["rollout", "--env", "Arithmetic-v0", "--concurrency", "0"], "--concurrency"),
])
def test_cli_bad_flags_are_usage_errors_not_tracebacks(tmp_path, args, needle):
    result = cli.invoke(app, [*args, "--out", str(tmp_path / "o.jsonl"), "--no-progress"]
                        if args[0] != "eval" or "--records" not in args else args)
    assert result.exit_code == 2, result.output + repr(result.exception)
    assert needle in result.output
    assert not (tmp_path / "o.jsonl").exists()



class NanVerifier(TaskEnv):
    def verify(self, task, response):
        return Verdict(reward=float("nan"))


def test_a_non_finite_reward_is_masked_not_recorded():
    env = NanVerifier(ProceduralTasks(lambda r, d: Task("q", "a"), name="n"))
    env.reset(seed=0)
    _o, reward, terminated, _t, info = env.step("a")
    assert terminated and info["verdict"].masked and reward == 0.0 and "non-finite" in info["verdict"].failure


class IllTypedReply(TaskEnv):
    reply: object = None

    async def arespond(self, episode, message):
        return self.reply

    def verify(self, task, response):
        return Verdict.correct()


@pytest.mark.parametrize("reply, needle", [
    (None, "NoneType from arespond"),
    ("done", "str from arespond"),
    (Reply(messages=None), "messages are not a list"),
    (Reply(verdict=1.0), "verdict is a float"),
])
def test_an_ill_typed_reply_from_arespond_is_masked_not_raised(reply, needle):
    env = IllTypedReply(ProceduralTasks(lambda r, d: Task("q", "a"), name="r"), max_turns=3)
    env.reply = reply
    env.reset(seed=0)
    _o, reward, terminated, _t, info = env.step("a")
    assert terminated and reward == 0.0 and info["verdict"].masked and needle in info["verdict"].failure


def test_non_finite_usage_numbers_are_dropped_not_raised():
    data = {"choices": [{"message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": float("nan"), "completion_tokens": 3, "total_tokens": float("inf")}}
    assert parse_chat_completion(data).usage == {"completion_tokens": 3}


def test_dataset_files_with_a_utf8_bom_keep_their_first_row(tmp_path):
    from nemogym.tasks import DatasetTasks

    rows = [{"question": f"q{i}", "answer": str(i)} for i in range(3)]
    jsonl, js = tmp_path / "d.jsonl", tmp_path / "d.json"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8-sig")
    js.write_text(json.dumps(rows), encoding="utf-8-sig")
    for path in (jsonl, js):
        tasks = DatasetTasks(path)
        assert tasks.size == 3 and tasks.get(0).prompt == "q0"


def test_dataset_limit_zero_takes_no_row():
    from nemogym.tasks import DatasetError, DatasetTasks

    assert DatasetTasks([{"question": "a", "answer": 1}] * 5, limit=2).size == 2
    with pytest.raises(DatasetError):
        DatasetTasks([{"question": "a", "answer": 1}], limit=0)


class SurrogatePolicy(ShapePolicy):
    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        # what json.loads gives for a server's '"\\ud83d"': a lone surrogate
        return PolicyResponse(message={"role": "assistant", "content": "half an emoji \ud83d " +
                                       context.env.reference_action()})


def test_a_lone_surrogate_in_model_output_is_written_and_read_back(tmp_path):
    out = tmp_path / "r.jsonl"
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=3, out=out), SurrogatePolicy()))
    recs = read_records(out)
    assert s.finished == 3 and len(recs) == 3
    assert "\ud83d" in recs[0].messages[-1]["content"] and all(r.reward == 1.0 for r in recs)


class SlowVerifyCount(TeardownCount):
    async def arespond(self, episode, message):
        return Reply(done=True)

    async def averify(self, episode):
        await asyncio.sleep(10)
        return Verdict.correct()


def test_a_deadline_that_cuts_the_verifier_still_releases_the_episode():
    nemogym.register("nemogym/TestSlowVerify-v0",
                     lambda **kw: SlowVerifyCount(ProceduralTasks(lambda r, d: Task("q", "a"), name="sv")),
                     override=True)
    TeardownCount.setups = TeardownCount.teardowns = TeardownCount.closes = 0
    cfg = RolloutConfig(env_id="TestSlowVerify-v0", episodes=2, concurrency=2, episode_timeout_s=0.3)
    s = asyncio.run(run_rollouts(cfg, SlowOnSecondTurn()))
    assert s.masked == 2
    assert TeardownCount.setups == 2 and TeardownCount.teardowns == 2 and TeardownCount.closes == 2


def test_teardown_runs_once_per_episode_whatever_ends_it():
    env = TeardownCount(ProceduralTasks(lambda r, d: Task("q", "a"), name="once"), max_turns=2)
    TeardownCount.setups = TeardownCount.teardowns = 0
    env.reset(seed=0)
    env.reset(seed=1)  # a reset mid-episode releases the first episode
    assert TeardownCount.teardowns == 1
    env.step("a")
    env.step("a")  # truncated at max_turns: released by _afinish
    env.reset(seed=2)  # ... and not again here
    assert (TeardownCount.setups, TeardownCount.teardowns) == (3, 2)
    asyncio.run(env.aclose())
    assert TeardownCount.teardowns == 3


class WrongRolePolicy(ShapePolicy):
    """Sends the right answer in a message with the wrong role: malformed, scored 0."""

    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        return PolicyResponse(message={"role": "user", "content": context.env.reference_action()})


def test_replay_and_reverify_keep_a_malformed_action_malformed(tmp_path):
    out = tmp_path / "r.jsonl"
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=3, out=out), WrongRolePolicy()))
    assert all(r.reward == 0.0 and r.verdict.details["malformed"] for r in s.records)
    # the stored message is the action's repr, which holds the right answer as text
    assert "boxed" in s.records[0].messages[-1]["content"]
    new = asyncio.run(reverify_file(out, tmp_path / "v.jsonl"))
    assert all(r.reward == 0.0 and r.verdict.details["malformed"] for r in new)
    replayed = asyncio.run(run_rollouts(RolloutConfig(env_id="Arithmetic-v0", episodes=3), ReplayPolicy(out)))
    assert all(r.reward == 0.0 and r.verdict.details.get("malformed") for r in replayed.records)


def test_a_malformed_action_that_is_not_json_is_still_recorded(tmp_path):
    env = nemogym.make("Arithmetic-v0")
    env.reset(seed=0)
    _o, reward, _t, _tr, info = env.step({"role": "assistant", "content": object()})
    assert reward == 0.0 and "malformed_action" not in info["verdict"].details
    with RecordWriter(tmp_path / "r.jsonl") as w:
        w.write(EpisodeRecord(env_id="nemogym/Arithmetic-v0", task_index=0, verdict=info["verdict"]))
    assert read_records(tmp_path / "r.jsonl")[0].verdict.details["malformed"]


def test_numeric_subsets_are_scored_not_dropped(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"question": f"What is {i} + 1?", "answer": str(i + 1), "subset": i % 2})
                            + "\n" for i in range(4)))
    out = tmp_path / "o.jsonl"
    result = cli.invoke(app, ["eval", "--env", "MathQA-v0", "--env-arg", f"data={data}", "--episodes", "4",
                              "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    recs = read_records(out)
    assert len(recs) == 4 and {r.subset for r in recs} == {"0", "1"}
    assert "└ 0" in result.output and "└ 1" in result.output
    # a file written before the fix (a number in subset, task_id) still reads
    row = json.loads(out.read_text().splitlines()[0])
    row["subset"], row["task_id"] = 7, 12
    assert EpisodeRecord.model_validate(row).subset == "7"


@pytest.mark.parametrize("name, needle", [("../evil", "must start with a letter"), ("Random", "shadow"),
                                          ("Arithmetic", "already")])
def test_new_env_bad_names_are_usage_errors(tmp_path, name, needle):
    result = cli.invoke(app, ["new-env", name, "--dest", str(tmp_path)])
    assert result.exit_code == 2, result.output + repr(result.exception)
    assert needle in result.output and not any(tmp_path.iterdir())


def test_new_env_into_an_existing_folder_is_a_usage_error(tmp_path):
    (tmp_path / "refunds").mkdir()
    result = cli.invoke(app, ["new-env", "Refunds", "--dest", str(tmp_path)])
    assert result.exit_code == 2 and "already exists" in result.output


class FractionDetails(TaskEnv):
    """A verifier that keeps exact values in its details (Fractions, sets, raw bytes)."""

    def verify(self, task, response):
        from fractions import Fraction

        return Verdict.wrong("not a third", expected=Fraction(1, 3), seen={1, 2}, raw=b"\xff")


def test_records_with_values_json_cannot_hold_are_written_not_raised(tmp_path):
    nemogym.register("nemogym/TestFractionDetails-v0",
                     lambda **kw: FractionDetails(ProceduralTasks(lambda r, d: Task("q", "a"), name="fd")),
                     override=True)
    out = tmp_path / "r.jsonl"
    s = asyncio.run(run_rollouts(RolloutConfig(env_id="TestFractionDetails-v0", episodes=3, out=out),
                                 SlowOnSecondTurn()))
    recs = read_records(out)
    assert s.finished == 3 and len(recs) == 3
    d = recs[0].verdict.details
    assert d["expected"] == "1/3" and sorted(d["seen"]) == [1, 2] and d["reason"] == "not a third"
