"""The `nemogym` CLI end to end: list, info, check, eval/rollout/resume/reverify, HTTP policy."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import nemogym
from nemogym import TaskEnv, Verdict
from nemogym.cli import app
from nemogym.rollout.records import read_records
from nemogym.serve.openai_stub import start_stub_server
from nemogym.tasks import ProceduralTasks, Task

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


def test_list_and_info():
    out = run("list")
    assert "nemogym/Arithmetic-v0" in out
    data = json.loads(run("list", "--json"))
    arith = next(e for e in data if e["id"] == "nemogym/Arithmetic-v0")
    assert arith["domain"] == "math" and arith["multi_turn"] is False
    info = run("info", "Arithmetic-v0")
    assert "procedural" in info and "Compute" in info and "[system]" in info
    run("info", "nemogym/NoSuchEnv-v0", code=2)


def test_check_passes_and_fails():
    out = run("check", "nemogym/Arithmetic-v0")
    assert "FAIL" not in out and "reference solutions get 1.0" in out

    class LiarEnv(TaskEnv):  # rewards everything: the garbage check must catch it
        def verify(self, task, response):
            return Verdict.correct()

    nemogym.register("nemogym/TestLiar-v0",
                     lambda **kw: LiarEnv(ProceduralTasks(lambda r, d: Task("q", "a"), name="l")),
                     override=True)
    out = run("check", "TestLiar-v0", code=1)
    assert "FAIL" in out and "garbage answer gets 0" in out


def test_eval_oracle_writes_records_and_metrics(tmp_path):
    out, js = tmp_path / "o.jsonl", tmp_path / "m.json"
    text = run("eval", "--env", "nemogym/Arithmetic-v0", "--policy", "oracle", "--episodes", "200",
               "--repeats", "4", "--out", str(out), "--json", str(js), "--no-progress")
    assert "pass@4" in text and "1.000" in text
    m = json.loads(js.read_text())["envs"]["nemogym/Arithmetic-v0"]
    assert m["episodes"] == 800 and m["mean_reward"] == 1.0 and m["pass_at_k"]["4"] == 1.0
    # an existing file is not overwritten without --resume
    run("eval", "--env", "Arithmetic-v0", "--episodes", "3", "--out", str(out), code=2)
    # scoring an existing file
    assert "800" in run("eval", "--records", str(out))


def test_rollout_resume_and_reverify(tmp_path):
    out = tmp_path / "r.jsonl"
    run("rollout", "--env", "Arithmetic-v0", "--policy", "random", "--episodes", "5", "--out", str(out))
    run("rollout", "--env", "Arithmetic-v0", "--policy", "random", "--episodes", "8", "--out", str(out), "--resume")
    recs = read_records(out)
    assert len(recs) == 8 and all(r.reward == 0.0 and not r.masked for r in recs)
    text = run("reverify", str(out), "--out", str(tmp_path / "v.jsonl"))
    assert "re-verified" in text and len(read_records(tmp_path / "v.jsonl")) == 8


def test_env_args_reach_the_env(tmp_path):
    out = tmp_path / "d.jsonl"
    run("rollout", "--env", "Arithmetic-v0", "--episodes", "2", "--out", str(out), "--env-arg", "difficulty=5")
    rec = read_records(out)[0]
    assert rec.env_kwargs == {"difficulty": 5} and rec.reward == 1.0
    run("rollout", "--env", "Arithmetic-v0", "--out", str(tmp_path / "x.jsonl"), "--env-arg", "oops", code=2)


def test_eval_against_a_real_http_server(tmp_path):
    url, stop = start_stub_server(mode="arithmetic")
    try:
        js = tmp_path / "m.json"
        run("eval", "--env", "Arithmetic-v0", "--policy", url, "--model", "stub", "--episodes", "50",
            "--repeats", "2", "--out", str(tmp_path / "h.jsonl"), "--json", str(js))
        m = json.loads(js.read_text())["envs"]["nemogym/Arithmetic-v0"]
        assert m["episodes"] == 100 and m["masked"] == 0 and m["mean_reward"] == 1.0
        rec = read_records(tmp_path / "h.jsonl")[0]
        assert rec.policy and rec.model == "stub" and rec.usage.get("completion_tokens", 0) > 0
    finally:
        stop()


@pytest.mark.parametrize("mode", ["fail500", "garbage"])
def test_failing_server_masks_episodes_and_completes(tmp_path, mode):
    url, stop = start_stub_server(mode=mode)
    try:
        js = tmp_path / "m.json"
        text = run("eval", "--env", "Arithmetic-v0", "--policy", url, "--model", "stub",
                   "--episodes", "4", "--out", str(tmp_path / "f.jsonl"), "--json", str(js))
        m = json.loads(js.read_text())["envs"]["nemogym/Arithmetic-v0"]
        assert m["episodes"] == 4 and m["masked"] == 4 and m["mean_reward"] is None
        assert "masked episodes" in text
        assert all(r.masked and r.verdict.failure for r in read_records(tmp_path / "f.jsonl"))
    finally:
        stop()


def test_dead_server_is_masked(tmp_path):
    url, stop = start_stub_server(mode="echo")
    stop()  # nothing listens there any more
    run("eval", "--env", "Arithmetic-v0", "--policy", url, "--model", "m", "--episodes", "2",
        "--out", str(tmp_path / "d.jsonl"))
    assert all(r.masked for r in read_records(tmp_path / "d.jsonl"))


def test_new_env_scaffolds_a_package_whose_tests_pass(tmp_path):
    import subprocess
    import sys

    out = run("new-env", "Refunds", "--kind", "tools", "--dest", str(tmp_path))
    assert "created" in out and (tmp_path / "refunds" / "env.py").exists()
    run("new-env", "Bad", "--kind", "nope", "--dest", str(tmp_path), code=2)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "refunds"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert tests.returncode == 0, tests.stdout[-2000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
