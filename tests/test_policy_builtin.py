"""Built-in policies (oracle, random, replay) and ``make_policy`` spec parsing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import nemogym
from nemogym.policies import (
    OpenAIHTTPPolicy,
    OraclePolicy,
    Policy,
    PolicyContext,
    PolicyError,
    RandomPolicy,
    ReplayPolicy,
    make_policy,
)

ENV_ID = "nemogym/Arithmetic-v0"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def play(env: Any, policy: Any, task_index: int, repeat: int = 0) -> tuple[float, Any, dict]:
    """One single-turn episode, the way the runner drives it."""
    obs, _ = env.reset(seed=task_index, options={"task_index": task_index})
    ctx = PolicyContext(env=env, env_id=ENV_ID, task_index=task_index, repeat=repeat, turn=0,
                        seed=task_index)
    resp = run(policy(obs["messages"], obs["tools"] or None, context=ctx))
    _, reward, terminated, truncated, info = env.step(resp.message)
    assert terminated and not truncated
    return reward, resp, info


def test_policies_satisfy_the_protocol(tmp_path: Path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"task_index": 0, "response": "x"}) + "\n")
    for p in (OraclePolicy(), RandomPolicy(), ReplayPolicy(path), OpenAIHTTPPolicy("http://h/v1")):
        assert isinstance(p, Policy)
        assert isinstance(p.name, str)
        run(p.aclose())


def test_oracle_scores_full_reward_on_arithmetic():
    env = nemogym.make(ENV_ID)
    oracle = OraclePolicy()
    for i in range(20):
        reward, resp, info = play(env, oracle, i)
        assert reward == 1.0, info["verdict"]
        assert resp.message == {"role": "assistant", "content": env.episode.task.reference}


class _ScriptEnv:
    """A minimal env exposing only ``reference_action`` (what the oracle reads)."""

    def __init__(self, ref: Any):
        self.ref = ref

    def reference_action(self) -> Any:
        return self.ref


def test_oracle_message_shapes_and_errors():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ref = {"content": None, "tool_calls": [call]}
    resp = run(OraclePolicy()([], context=PolicyContext(env=_ScriptEnv(ref))))
    assert resp.message == {"role": "assistant", "content": None, "tool_calls": [call]}
    resp.message["tool_calls"].clear()
    assert ref["tool_calls"] == [call]  # the env's reference is not aliased
    assert run(OraclePolicy()([], context=PolicyContext(env=_ScriptEnv(42)))).message["content"] == "42"
    with pytest.raises(PolicyError, match="env has no reference solution"):
        run(OraclePolicy()([], context=PolicyContext(env=_ScriptEnv(None))))
    with pytest.raises(PolicyError, match="needs the env"):
        run(OraclePolicy()([], context=None))
    with pytest.raises(PolicyError, match="not a string or an assistant message"):
        run(OraclePolicy()([], context=PolicyContext(env=_ScriptEnv(object()))))


def test_random_is_deterministic_and_varied():
    policy = RandomPolicy(seed=3)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]

    def msg(task_index: int, repeat: int = 0, turn: int = 0, seed: int = 3) -> dict:
        ctx = PolicyContext(env_id=ENV_ID, task_index=task_index, repeat=repeat, turn=turn, seed=7)
        return run(RandomPolicy(seed=seed)([], tools, context=ctx)).message

    assert msg(5) == msg(5) == run(policy([], tools, context=PolicyContext(
        env_id=ENV_ID, task_index=5, seed=7))).message
    assert len({json.dumps(msg(5, turn=t)) for t in range(10)}) > 1
    assert msg(5, repeat=1) != msg(5) or msg(5, repeat=2) != msg(5)
    assert msg(5, seed=4) != msg(5) or msg(6, seed=4) != msg(6)
    kinds = set()
    for i in range(200):
        m = msg(i)
        if m.get("tool_calls"):
            kinds.add("tool")
            assert m["content"] is None and isinstance(m["tool_calls"][0]["function"]["arguments"], str)
        elif m["content"] == "":
            kinds.add("empty")
        else:
            kinds.add("text")
    assert kinds == {"tool", "empty", "text"}


def test_random_scores_zero_without_raising():
    env = nemogym.make(ENV_ID)
    policy = RandomPolicy()
    for i in range(100):
        reward, _, info = play(env, policy, i)
        assert reward == 0.0 and not info["verdict"].masked
    with pytest.raises(ValueError, match="probabilities"):
        RandomPolicy(p_empty=0.8, p_tool=0.5)


def _write_jsonl(path: Path, rows: list[Any], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_replay_of_rollout_records_turn_by_turn(tmp_path: Path):
    a1 = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]}
    a2 = {"role": "assistant", "content": "done"}
    record = {"env_id": ENV_ID, "task_index": 3, "repeat": 1, "reward": 1.0, "messages": [
        {"role": "user", "content": "q"}, a1, {"role": "tool", "tool_call_id": "c", "content": "1"}, a2]}
    stale = dict(record, messages=[{"role": "assistant", "content": "old"}])
    other_env = dict(record, env_id="nemogym/Other-v0", repeat=0)
    path = _write_jsonl(tmp_path / "run.jsonl", [stale, record, other_env],
                        extra_lines=('{"env_id": "nemogym/Arith',))  # a torn last line
    policy = ReplayPolicy(path)
    assert policy.skipped_lines == 1

    def at(turn: int, task_index: int = 3, repeat: int = 1, env_id: str | None = ENV_ID):
        ctx = PolicyContext(env_id=env_id, task_index=task_index, repeat=repeat, turn=turn)
        return run(policy([], context=ctx)).message

    assert at(0) == a1 and at(1) == a2  # the later record replaced the stale one
    with pytest.raises(PolicyError, match="has 2 assistant turn"):
        at(2)
    with pytest.raises(PolicyError, match="no episode"):
        at(0, task_index=4)
    with pytest.raises(PolicyError, match="no episode"):
        at(0, repeat=0)  # repeat 0 of task 3 exists only for another env
    assert at(0, repeat=0, env_id="nemogym/Other-v0") == a1
    assert at(0, env_id="Arithmetic-v0") == a1  # ids without the namespace match
    with pytest.raises(PolicyError, match="needs context.task_index"):
        run(policy([], context=None))


def test_replay_of_simple_rows_scores_like_the_original(tmp_path: Path):
    env = nemogym.make(ENV_ID)
    rows = []
    for i in range(5):
        env.reset(seed=i, options={"task_index": i})
        rows.append({"task_index": i, "response": env.episode.task.reference if i % 2 == 0 else "no"})
    rows.append({"task_index": 0, "repeat": 1, "response": [{"role": "assistant", "content": "t0"}, "t1"]})
    policy = make_policy(f"replay:{_write_jsonl(tmp_path / 'rows.jsonl', rows)}")
    assert [play(env, policy, i)[0] for i in range(5)] == [1.0, 0.0, 1.0, 0.0, 1.0]
    msgs = [run(policy([], context=PolicyContext(env_id=ENV_ID, task_index=0, repeat=1, turn=t))).message
            for t in (0, 1)]
    assert [m["content"] for m in msgs] == ["t0", "t1"]


def test_replay_bad_files(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="replay file not found"):
        ReplayPolicy(tmp_path / "missing.jsonl")
    bad = _write_jsonl(tmp_path / "bad.jsonl", [[1, 2], {"no_index": 1}, {"task_index": 0}],
                       extra_lines=("not json", '{"task_index": 1, "response": 3.5j}'))
    with pytest.raises(ValueError, match="no usable rows"):
        ReplayPolicy(bad)


def test_make_policy_specs(tmp_path: Path):
    assert isinstance(make_policy("oracle"), OraclePolicy)
    assert make_policy("random").seed == 0
    assert make_policy(" random:7 ").seed == 7
    # HTTP-only options (a CLI's --concurrency) are ignored by built-in policies
    assert isinstance(make_policy("oracle", concurrency=8, timeout_s=3), OraclePolicy)
    assert make_policy("random", seed=2, max_chars=5).max_chars == 5
    http = make_policy("http://127.0.0.1:8000/v1", model="qwen", concurrency=8, timeout_s=5,
                       max_retries=1, api_key="k")
    assert isinstance(http, OpenAIHTTPPolicy)
    assert (http.model, http.concurrency, http.timeout_s, http.max_retries) == ("qwen", 8, 5.0, 1)
    assert http.headers["Authorization"] == "Bearer k"
    assert make_policy("https://example.test").base_url == "https://example.test/v1"
    path = _write_jsonl(tmp_path / "r.jsonl", [{"task_index": 0, "response": "x"}])
    assert isinstance(make_policy(f"replay:{path}"), ReplayPolicy)
    custom = make_policy("nemogym.policies.builtin:RandomPolicy", seed=9)
    assert isinstance(custom, RandomPolicy) and custom.seed == 9


@pytest.mark.parametrize("spec, match", [
    ("gpt-4", "unknown policy spec"),
    ("", "non-empty string"),
    ("random:abc", "seed must be an integer"),
    ("replay:", "needs a file"),
    ("oracle:x", "cannot load policy"),
    ("no_such_module_xyz:Policy", "cannot load policy"),
    ("ftp://host/v1", "unknown policy spec"),
])
def test_make_policy_rejects_bad_specs(spec: str, match: str):
    with pytest.raises(ValueError, match=match):
        make_policy(spec)


def test_make_policy_rejects_unknown_options():
    with pytest.raises(ValueError, match="takes no option"):
        make_policy("oracle", temperature=0.5)
    with pytest.raises(ValueError, match="takes no option"):
        make_policy("http://h/v1", seed=1)
