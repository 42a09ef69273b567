"""Code-v0 and CodeMultiTurn-v0: registry, shipped data, data sources, fixtures, retries."""

import asyncio
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from nemogym.envs.code.env import DEFAULT_DATA
from nemogym.sandboxes import Sandbox, SandboxError, default_sandbox
from nemogym.verifiers.code import FunctionTests, IOTests

import nemogym

ROWS = [json.loads(line) for line in DEFAULT_DATA.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def sandbox():
    sb = default_sandbox()
    yield sb
    sb.close()


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def test_registered_with_metadata():
    info = nemogym.env_info("nemogym/Code-v0")
    assert info.domain == "code" and not info.multi_turn
    assert nemogym.env_info("CodeMultiTurn-v0").multi_turn


def test_shipped_example_set_has_both_styles_and_references():
    assert len(ROWS) >= 30 and len({r["id"] for r in ROWS}) == len(ROWS)
    styles = [r["style"] for r in ROWS]
    assert styles.count("function") >= 10 and styles.count("io") >= 10
    assert all(r["solution"].strip() and r["tests"] for r in ROWS)
    assert any(r.get("partial_credit") for r in ROWS) and {"float", "exact"} <= {r.get("compare") for r in ROWS}


async def test_every_reference_solution_scores_one(sandbox):
    """What `nemogym check` verifies: the oracle (the reference) earns 1.0 on every task."""
    env = nemogym.make("nemogym/Code-v0", sandbox=sandbox)
    assert len(env.tasks) == len(ROWS) and env.tasks.skipped == []

    async def one(i):
        e = nemogym.make("nemogym/Code-v0", sandbox=sandbox)
        _, info = await e.areset(options={"task_index": i})
        _, reward, terminated, _, info = await e.astep(e.reference_action())
        return info["verdict"], terminated

    results = await asyncio.gather(*(one(i) for i in range(len(env.tasks))))
    failures = {env.tasks.get(i).id: v.reason for i, (v, _) in enumerate(results) if v.reward != 1.0}
    assert failures == {}
    assert all(term and not v.masked for v, term in results)


def test_fixtures_score_as_labelled(sandbox):
    env = nemogym.make("nemogym/Code-v0", sandbox=sandbox)
    fixtures = env.fixtures()
    assert {f.kind for f in fixtures} >= {"full", "zero", "malformed"}
    assert sum(f.kind == "full" for f in fixtures) == 2  # one per test style
    for f in fixtures:
        env.reset(options={"task_index": f.task_index})
        _, reward, terminated, _, info = env.step(f.action)
        assert reward == f.reward, (f.name, info["verdict"])
        assert terminated and not info["verdict"].masked


def test_prompt_and_seeding(sandbox):
    env = nemogym.make("nemogym/Code-v0", sandbox=sandbox)
    obs, info = env.reset(seed=7)
    assert obs["messages"][0]["role"] == "system" and "```python" in obs["messages"][0]["content"]
    again, info2 = env.reset(seed=7)
    assert info["task_id"] == info2["task_id"] and again == obs
    fn_index = next(i for i, r in enumerate(ROWS) if r["style"] == "function")
    obs, info = env.reset(options={"task_index": fn_index})
    assert info["subset"] == "function" and f"`{ROWS[fn_index]['entry_point']}`" in obs["messages"][-1]["content"]
    io_index = next(i for i, r in enumerate(ROWS) if r["style"] == "io")
    obs, info = env.reset(options={"task_index": io_index})
    assert info["subset"] == "io" and "standard input" in obs["messages"][-1]["content"]


def test_default_sandbox_is_used_when_none_is_given():
    env = nemogym.make("nemogym/Code-v0")
    env.reset(options={"task_index": 0})
    _, reward, *_, info = env.step(env.reference_action())
    assert reward == 1.0 and info["verdict"].details["isolation"] == "bubblewrap"


# -- data sources ----------------------------------------------------------------------------
HUMANEVAL_ROWS = [{  # the prompt defines a helper the test uses, as in HumanEval/38
    "task_id": "Toy/0", "entry_point": "add",
    "prompt": 'def offset() -> int:\n    return 3\n\n\ndef add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(2, offset()) == 5\n",
}]


def test_local_jsonl_with_a_broken_row_loses_nothing_else(tmp_path, sandbox):
    path = tmp_path / "tasks.jsonl"
    good = ROWS[0]
    lines = [json.dumps(good), "{not json", json.dumps({"id": "no-tests", "prompt": "x", "style": "io"}),
             json.dumps({**ROWS[-1], "id": "last"})]
    path.write_text("\n".join(lines) + "\n")
    env = nemogym.make("nemogym/Code-v0", data=str(path), sandbox=sandbox)
    assert len(env.tasks) == 2 and [t.id for t in env.tasks] == [good["id"], "last"]
    assert len(env.tasks.skipped) == 1 and "no tests" in env.tasks.skipped[0][1]


def test_parquet_file(tmp_path, sandbox):
    rows = [{**r, "tests": json.dumps(r["tests"]) if r["style"] == "io" else r["tests"]} for r in ROWS[:2] + ROWS[-2:]]
    keep = ["id", "style", "prompt", "entry_point", "tests", "solution"]
    table = pa.Table.from_pylist([{k: r.get(k) for k in keep} for r in rows])
    path = tmp_path / "tasks.parquet"
    pq.write_table(table, path)
    env = nemogym.make("nemogym/Code-v0", data=str(path), sandbox=sandbox)
    assert len(env.tasks) == 4
    for i in range(4):
        env.reset(options={"task_index": i})
        assert env.step(env.reference_action())[1] == 1.0


def test_hf_dataset_with_humaneval_fields(sandbox):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(HUMANEVAL_ROWS)
    env = nemogym.make("nemogym/Code-v0", data=ds, tests_field="test", solution_field="canonical_solution",
                       id_field="task_id", code_prompt_field="prompt", sandbox=sandbox)
    obs, info = env.reset(options={"task_index": 0})
    assert info["task_id"] == "Toy/0" and "Complete the following Python function" in obs["messages"][-1]["content"]
    assert env.step(env.reference_action())[1] == 1.0
    env.reset(options={"task_index": 0})
    assert env.step("    return a + b\n")[1] == 1.0  # a bare completion continues the stub
    env.reset(options={"task_index": 0})
    assert env.step(fenced("    return a - b"))[1] == 0.0


def test_overrides_reach_the_tests(sandbox):
    env = nemogym.make("nemogym/Code-v0", sandbox=sandbox, partial_credit=True, timeout_s=2.0)
    kinds = {type(env.tests_for(i)) for i in range(len(env.tasks))}
    assert kinds == {FunctionTests, IOTests}
    assert all(env.tests_for(i).partial_credit for i in range(len(env.tasks)) if isinstance(env.tests_for(i), IOTests))
    assert all(env.tests_for(i).timeout_s == 2.0 for i in range(len(env.tasks))
               if isinstance(env.tests_for(i), FunctionTests))


def test_no_usable_rows_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text(json.dumps({"id": "x", "prompt": "p"}) + "\n")
    with pytest.raises(ValueError, match="no usable rows"):
        nemogym.make("nemogym/Code-v0", data=str(path))


# -- multi-turn --------------------------------------------------------------------------------
SUM_ROW = {"id": "sum", "style": "io", "prompt": "Print a + b.", "solution": "a, b = map(int, input().split())\nprint(a + b)",
           "tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5\n", "output": "10\n"}]}
RIGHT = fenced("a, b = map(int, input().split())\nprint(a + b)")
WRONG = fenced("a, b = map(int, input().split())\nprint(a * b)")


def test_multi_turn_feedback_then_success_is_discounted(sandbox):
    env = nemogym.make("nemogym/CodeMultiTurn-v0", data=[SUM_ROW], sandbox=sandbox, max_turns=3, turn_discount=0.5)
    env.reset(options={"task_index": 0})
    obs, reward, terminated, truncated, info = env.step(WRONG)
    assert (reward, terminated, truncated) == (0.0, False, False)
    note = obs["messages"][-1]
    assert note["role"] == "user" and "Expected output:\n3" in note["content"] and "Your output:\n2" in note["content"]
    assert "2 attempts left" in note["content"]
    obs, reward, terminated, _, info = env.step(RIGHT)
    v = info["verdict"]
    assert terminated and reward == 0.5 and v.details["turns_used"] == 2 and v.details["raw_reward"] == 1.0
    assert [a["reward"] for a in v.details["attempts"]] == [0.0, 1.0]


def test_multi_turn_all_attempts_fail(sandbox):
    env = nemogym.make("nemogym/CodeMultiTurn-v0", data=[SUM_ROW], sandbox=sandbox, max_turns=2)
    env.reset(options={"task_index": 0})
    assert env.step("no code, sorry")[2] is False  # no code is feedback too, not the end
    assert "no code found" in env.episode.messages[-1]["content"]
    _, reward, terminated, _, info = env.step(WRONG)
    assert terminated and reward == 0.0 and not info["verdict"].masked and info["verdict"].details["turns_used"] == 2


def test_multi_turn_first_try_and_function_feedback(sandbox):
    env = nemogym.make("nemogym/CodeMultiTurn-v0", sandbox=sandbox)
    fn_index = next(i for i, r in enumerate(ROWS) if r["style"] == "function")
    env.reset(options={"task_index": fn_index})
    _, reward, terminated, _, _ = env.step(env.reference_action())
    assert terminated and reward == 1.0
    env.reset(options={"task_index": fn_index})
    entry = ROWS[fn_index]["entry_point"]
    obs, reward, terminated, _, _ = env.step(fenced(f"def {entry}(*a):\n    return None"))
    assert not terminated and "Last call: candidate(" in obs["messages"][-1]["content"]


class BrokenSandbox(Sandbox):
    def run(self, argv, **kwargs):
        raise SandboxError("could not start")

    def run_python(self, code, **kwargs):
        raise SandboxError("could not start")


def test_sandbox_failure_masks_the_episode():
    for env_id in ("nemogym/Code-v0", "nemogym/CodeMultiTurn-v0"):
        env = nemogym.make(env_id, data=[SUM_ROW], sandbox=BrokenSandbox())
        env.reset(options={"task_index": 0})
        _, reward, terminated, _, info = env.step(RIGHT)
        assert terminated and info["verdict"].masked and "could not start" in info["verdict"].failure


def test_verify_timeout_scales_with_the_task():
    rows = [SUM_ROW, {**SUM_ROW, "id": "big", "tests": SUM_ROW["tests"] * 200}]
    env = nemogym.make("nemogym/Code-v0", data=rows)
    assert env.verify_timeout_s == 120.0
    env.reset(options={"task_index": 1})  # 400 cases x 2 s, 4 at a time: far beyond 120 s
    assert env.verify_timeout_s >= 3 * 100 * (2.0 + 5.0)
    env.verify_timeout_s = 7.5
    assert env.verify_timeout_s == 7.5


def test_multi_turn_partial_credit_of_the_last_attempt_is_discounted(sandbox):
    env = nemogym.make("nemogym/CodeMultiTurn-v0", data=[{**SUM_ROW, "partial_credit": True}],
                       sandbox=sandbox, max_turns=2, turn_discount=0.8)
    half = fenced("a, b = map(int, input().split())\nprint(3 if a == 1 else 0)")  # passes case 1 of 2
    env.reset(options={"task_index": 0})
    assert env.step(half)[1:3] == (0.0, False)
    _, reward, terminated, _, info = env.step(half)
    assert terminated and reward == pytest.approx(0.5 * 0.8) and info["verdict"].details["raw_reward"] == 0.5
