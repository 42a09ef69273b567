"""Registry, spaces and message normalisation."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import nemogym
from nemogym import TaskEnv, Verdict
from nemogym.messages import MalformedAction, content_text, to_assistant_message
from nemogym.spaces import AssistantActionSpace, ChatObservationSpace
from nemogym.tasks import ProceduralTasks, Task


class Tiny(TaskEnv):
    def __init__(self, word: str = "hi", **kw):
        super().__init__(ProceduralTasks(lambda r, d: Task(prompt="say it", answer=word), name="tiny"), **kw)

    def verify(self, task, response):
        return Verdict(reward=float(response == task.answer))


def test_register_make_list_and_gymnasium():
    info = nemogym.register("TestTiny-v0", Tiny, kwargs={"word": "yo"}, domain="test",
                            description="tiny", multi_turn=False, uses_tools=False,
                            reward_range=(0.0, 1.0), data_source="inline", license="MIT", override=True)
    assert info.id == "nemogym/TestTiny-v0"
    assert any(e.id == info.id and e.domain == "test" for e in nemogym.list_envs())
    env = nemogym.make("TestTiny-v0")
    env.reset(seed=0)
    assert env.step("yo")[1] == 1.0
    assert nemogym.make("nemogym/TestTiny-v0", word="other").tasks.get(0).answer == "other"
    genv = gymnasium.make("nemogym/TestTiny-v0")
    genv.reset(seed=0)
    assert genv.step("yo")[1] == 1.0
    assert env.spec.id == "nemogym/TestTiny-v0"


def test_duplicate_and_unknown_ids():
    nemogym.register("TestDup-v0", Tiny, override=True)
    with pytest.raises(ValueError, match="already registered"):
        nemogym.register("TestDup-v0", Tiny)
    with pytest.raises(KeyError, match="unknown environment"):
        nemogym.make("nemogym/DoesNotExist-v0")


def test_string_entry_points_import_lazily():
    info = nemogym.env_info("Arithmetic-v0")
    assert info.entry_point == "nemogym.envs.math.arithmetic:ArithmeticEnv"
    assert info.deterministic and info.data_source.startswith("procedural")


def test_spaces_contain_and_sample():
    obs_space, act_space = ChatObservationSpace(seed=0), AssistantActionSpace(seed=0)
    good = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                         {"role": "assistant", "content": None, "tool_calls": []}],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}
    assert obs_space.contains(good)
    assert not obs_space.contains({"messages": [{"role": "robot", "content": "x"}], "tools": []})
    assert not obs_space.contains({"messages": []})
    assert obs_space.contains(obs_space.sample())
    assert act_space.contains("text") and act_space.contains({"role": "assistant", "content": "x"})
    assert act_space.contains({"role": "assistant", "tool_calls": [{"id": "1"}]})
    assert not act_space.contains({"role": "user", "content": "x"}) and not act_space.contains(3)
    samples = [act_space.sample() for _ in range(20)]
    assert all(isinstance(s, str) for s in samples) and len(set(samples)) > 1
    a, b = AssistantActionSpace(seed=5), AssistantActionSpace(seed=5)
    assert [a.sample() for _ in range(5)] == [b.sample() for _ in range(5)]
    assert isinstance(obs_space.np_random, np.random.Generator)


def test_message_normalisation():
    assert to_assistant_message("hi") == {"role": "assistant", "content": "hi"}
    parts = {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    assert to_assistant_message(parts)["content"] == "ab"
    calls = {"role": "assistant", "content": None,
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    assert to_assistant_message(calls)["tool_calls"][0]["id"] == "c1"
    for bad in ({"role": "assistant", "tool_calls": "x"}, {"content": 5}, [1], 3.0):
        with pytest.raises(MalformedAction):
            to_assistant_message(bad)
    assert content_text(None) == ""
