"""TextEnv / TaskEnv: the Gymnasium contract, sync/async derivation, bad actions, failures."""

from __future__ import annotations

import asyncio
import time

import gymnasium
import pytest

import nemogym
from nemogym import Reply, TaskEnv, TextEnv, Verdict
from nemogym.tasks import ProceduralTasks, Task


def test_gymnasium_make_and_namespace():
    env = gymnasium.make("nemogym/Arithmetic-v0")
    obs, info = env.reset(seed=7)
    assert set(obs) == {"messages", "tools"}
    assert obs["messages"][-1]["role"] == "user"
    assert env.observation_space.contains(obs)
    ref = env.unwrapped.reference_action()
    obs, reward, terminated, truncated, info = env.step(ref)
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert isinstance(info["verdict"], Verdict) and info["verdict"].reward == 1.0
    # with or without the namespace
    assert type(nemogym.make("Arithmetic-v0")) is type(nemogym.make("nemogym/Arithmetic-v0"))


def test_same_seed_same_task_and_task_index():
    a, b = nemogym.make("Arithmetic-v0"), nemogym.make("Arithmetic-v0")
    assert a.reset(seed=11)[0] == b.reset(seed=11)[0]
    prompts = {a.reset(seed=s)[0]["messages"][-1]["content"] for s in range(20)}
    assert len(prompts) > 10  # different seeds give different tasks
    x = a.reset(options={"task_index": 5})[0]
    y = b.reset(seed=123, options={"task_index": 5})[0]
    assert x == y


def test_difficulty_changes_tasks():
    easy = nemogym.make("Arithmetic-v0", difficulty=1).reset(seed=1)[0]["messages"][-1]["content"]
    hard = nemogym.make("Arithmetic-v0", difficulty=5).reset(seed=1)[0]["messages"][-1]["content"]
    assert len(hard) > len(easy)


@pytest.mark.parametrize("action, reason", [
    (12345, "must be a string or an assistant message"),
    ({"role": "assistant"}, "neither content nor tool_calls"),
    ({"role": "user", "content": "hi"}, "expected 'assistant'"),
    ("x" * 1_000_001, "max"),
    (None, "must be a string"),
])
def test_malformed_actions_score_zero_with_reason(action, reason):
    env = nemogym.make("Arithmetic-v0")
    env.reset(seed=0)
    _obs, reward, terminated, _tr, info = env.step(action)
    v = info["verdict"]
    assert reward == 0.0 and terminated and not v.masked
    assert reason in v.details["reason"] and v.details["malformed"]


def test_assistant_message_dict_action():
    env = nemogym.make("Arithmetic-v0")
    env.reset(seed=3)
    ans = env.episode.task.answer
    _o, reward, *_ = env.step({"role": "assistant", "content": f"\\boxed{{{ans}}}"})
    assert reward == 1.0


def test_step_after_end_raises_clearly():
    env = nemogym.make("Arithmetic-v0")
    env.reset(seed=0)
    env.step("1")
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step("1")


def _tasks():
    return ProceduralTasks(lambda rng, d: Task(prompt=f"say {rng.randint(0, 9)}", answer="ok"), name="t")


class CrashingVerifier(TaskEnv):
    def verify(self, task, response):
        raise ZeroDivisionError("boom")


class SlowVerifier(TaskEnv):
    verify_timeout_s = 0.2

    async def averify(self, episode):
        await asyncio.sleep(5)
        return Verdict.correct()


class WrongType(TaskEnv):
    def verify(self, task, response):
        return 1.0


@pytest.mark.parametrize("cls, failure", [
    (CrashingVerifier, "verifier raised: ZeroDivisionError"),
    (SlowVerifier, "verifier timed out"),
    (WrongType, "not Verdict"),
])
def test_verifier_failures_are_masked_not_zero(cls, failure):
    env = cls(_tasks())
    env.reset(seed=0)
    t0 = time.monotonic()
    _o, reward, terminated, _t, info = env.step("ok")
    assert time.monotonic() - t0 < 3
    v = info["verdict"]
    assert v.masked and failure in v.failure and terminated


class EchoTurns(TaskEnv):
    """Multi-turn: the env asks 'again?' until the model says 'stop'."""

    async def arespond(self, episode, message):
        if message["content"] == "stop":
            return Reply(done=True, verdict=Verdict.correct(turns=episode.turn))
        if message["content"] == "crash":
            raise RuntimeError("env bug")
        return Reply(messages=[{"role": "user", "content": "again?"}])


def test_multi_turn_and_truncation():
    env = EchoTurns(_tasks(), max_turns=3)
    env.reset(seed=0)
    obs, r, term, trunc, _ = env.step("go")
    assert (r, term, trunc) == (0.0, False, False) and obs["messages"][-1]["content"] == "again?"
    _o, r, term, trunc, info = env.step("stop")
    assert term and not trunc and info["verdict"].details["turns"] == 2
    env.reset(seed=0)
    env.step("a")
    env.step("b")
    _o, r, term, trunc, info = env.step("c")  # third turn hits max_turns
    assert trunc and not term


def test_env_hook_crash_is_masked():
    env = EchoTurns(_tasks(), max_turns=3)
    env.reset(seed=0)
    _o, _r, term, _t, info = env.step("crash")
    assert term and info["verdict"].masked and "env raised: RuntimeError" in info["verdict"].failure


class SyncOnly(TextEnv):
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return {"messages": [{"role": "user", "content": "hi"}], "tools": []}, {}

    def step(self, action):
        return ({"messages": [], "tools": []}, 1.0, True, False,
                {"verdict": Verdict.correct(), "thread": __import__("threading").current_thread().name})


class BlockingSync(SyncOnly):
    blocking_step = True


class AsyncOnly(TextEnv):
    async def areset(self, *, seed=None, options=None):
        return {"messages": [{"role": "user", "content": str(seed)}], "tools": []}, {}

    async def astep(self, action):
        await asyncio.sleep(0)
        return {"messages": [], "tools": []}, 0.5, True, False, {}


def test_async_twins_derived_from_sync_and_back():
    env = SyncOnly()
    obs, _ = asyncio.run(env.areset(seed=1))
    assert obs["messages"][0]["content"] == "hi"
    assert asyncio.run(env.astep("x"))[1] == 1.0
    # a blocking sync step runs off the event loop's thread
    info = asyncio.run(BlockingSync().astep("x"))[4]
    assert info["thread"] != "MainThread"
    a = AsyncOnly()
    assert a.reset(seed=5)[0]["messages"][0]["content"] == "5"
    assert a.step("x")[1] == 0.5


def test_sync_api_works_inside_a_running_loop():
    async def inner():
        a = AsyncOnly()
        return a.reset(seed=9)[0]["messages"][0]["content"]
    assert asyncio.run(inner()) == "9"


def test_neither_pair_implemented_raises():
    class Nothing(TextEnv):
        pass
    with pytest.raises(NotImplementedError):
        Nothing().reset()
    with pytest.raises(NotImplementedError):
        asyncio.run(Nothing().astep("x"))


def test_gymnasium_env_checker_passes():
    from gymnasium.utils.env_checker import check_env
    check_env(nemogym.make("Arithmetic-v0"), skip_render_check=True)


def test_run_sync_works_in_a_forked_child():
    import os

    from nemogym._async import run_sync

    async def answer():
        return await asyncio.to_thread(lambda: 42)  # uses the loop's default executor threads

    assert run_sync(answer()) == 42  # the parent now holds a thread loop with worker threads
    pid = os.fork()
    if pid == 0:  # the child must not reuse the parent's loop: its executor threads are gone
        try:
            os._exit(0 if run_sync(answer()) == 42 else 1)
        except BaseException:
            os._exit(2)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("run_sync hung in the forked child")
    assert os.waitstatus_to_exitcode(status) == 0


def test_custom_math_verifier_runs_off_the_event_loop():
    import threading

    seen = []

    def slow_verifier(response, gold):
        seen.append(threading.current_thread().name)
        return Verdict(reward=float(response.strip() == f"\\boxed{{{gold}}}"))

    env = nemogym.make("Arithmetic-v0", verifier=slow_verifier)

    async def play():
        await env.areset(seed=1)
        return await env.astep(f"\\boxed{{{env.episode.task.answer}}}")

    assert asyncio.run(play())[1] == 1.0
    assert seen and seen[0] != "MainThread"
