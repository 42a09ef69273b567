"""MathWithPython-v0 with the real default sandbox: references, fixtures, limits, failures."""

import pytest
from nemogym.envs.tools.base import run_oracle, run_script
from nemogym.envs.tools.math_python import MathWithPythonEnv
from nemogym.sandboxes import Sandbox, SandboxError, isolation_available

import nemogym

pytestmark = pytest.mark.skipif(not isolation_available(),
                                reason="bubblewrap is not usable here (the sandbox tests say why)")


@pytest.fixture(scope="module")
def env():
    e = nemogym.make("nemogym/MathWithPython-v0", timeout_s=2.0)
    yield e
    e.close()


def _python(code):
    import json
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "p", "type": "function", "function": {"name": "python", "arguments": json.dumps({"code": code})}}]}


def test_references_run_in_the_sandbox_and_score_one(env):
    for i in range(21):  # every problem kind, three times
        v, _ = run_oracle(env, task_index=i)
        assert v is not None and v.reward == 1.0 and v.details["python_calls"] == 1, (i, v)
        assert env.episode.messages[-2]["role"] == "tool"


def test_fixtures_score_as_labelled(env):
    for f in env.fixtures():
        v, _ = run_script(env, f.action + [""] * 2, task_index=f.task_index)
        assert v is not None and v.reward == f.reward, f.name


def test_errors_and_timeouts_come_back_as_tool_output(env):
    env.reset(options={"task_index": 0})
    obs, _, term, *_ = env.step(_python("print(1)\nraise ValueError('boom')"))
    out = obs["messages"][-1]["content"]
    assert not term and out.startswith("1\n[exit code 1]") and "ValueError: boom" in out
    obs, _, term, *_ = env.step(_python("while True:\n    pass"))
    assert not term and "[timed out after 2s]" in obs["messages"][-1]["content"]
    obs, *_ = env.step(_python("x = 1"))
    assert "no output" in obs["messages"][-1]["content"]
    _, r, term, _, info = env.step(f"\\boxed{{{env.tasks.get(0).answer}}}")
    assert term and r == 1.0 and info["verdict"].details["bad_calls"] == {}  # failing code is not a bad call


class DeadSandbox(Sandbox):
    """A sandbox whose backend is gone (what a crashed pool looks like to the env)."""

    def run_python(self, code, **kwargs):
        raise SandboxError("worker pool is down")


def test_a_dead_sandbox_masks_the_episode():
    env = MathWithPythonEnv(sandbox=DeadSandbox())
    env.reset(options={"task_index": 0})
    _, r, term, _, info = env.step(_python("print(1)"))
    assert term and info["verdict"].masked and "worker pool is down" in info["verdict"].failure


def test_checker_passes():
    from nemogym.checker import check

    report = check("nemogym/MathWithPython-v0", tasks=7)
    assert report.ok, [(r.name, r.detail) for r in report.results if not r.ok]


def test_env_instances_share_one_default_sandbox():
    """The runner makes one env per concurrent episode: each must not start its own warm pool
    (concurrency x cores workers); they share one, closed when the last user closes."""
    a = MathWithPythonEnv(timeout_s=2.0)
    b = MathWithPythonEnv(timeout_s=2.0)
    try:
        assert a.sandbox is b.sandbox
        a.close()
        v, _ = run_oracle(b, task_index=0)  # a's close did not pull the sandbox from under b
        assert v.reward == 1.0
        c = MathWithPythonEnv()
        assert c.sandbox is b.sandbox
        c.close()
    finally:
        b.close()
    d = MathWithPythonEnv(timeout_s=2.0)
    try:
        assert run_oracle(d, task_index=1)[0].reward == 1.0  # a fresh one after the last close
    finally:
        d.close()
