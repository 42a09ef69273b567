"""Math envs: every generator's reference scores 1.0 through the env, a wrong answer 0, checks pass."""

from __future__ import annotations

import json

import pytest
from nemogym.envs.math.base import boxed
from nemogym.verifiers.math import gold_text, verify

import nemogym
from nemogym.checker import check

PROCEDURAL = ["nemogym/Arithmetic-v0", "nemogym/LinearEquation-v0", "nemogym/LinearSystem-v0",
              "nemogym/FractionArithmetic-v0", "nemogym/PercentWord-v0", "nemogym/Polynomial-v0",
              "nemogym/ModularArithmetic-v0", "nemogym/Combinatorics-v0"]
SEEDS = 200


def _episode(env, seed: int, action) -> tuple[float, object]:
    env.reset(seed=seed)
    _obs, reward, terminated, truncated, info = env.step(action)
    assert terminated and not truncated
    return reward, info["verdict"]


@pytest.mark.parametrize("env_id", PROCEDURAL)
@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_reference_scores_one_and_wrong_scores_zero(env_id, difficulty):
    env = nemogym.make(env_id, difficulty=difficulty)
    for seed in range(SEEDS):
        env.reset(seed=seed)
        task = env.episode.task
        reward, verdict = _episode(env, seed, env.reference_action())
        assert reward == 1.0, (seed, task.prompt, task.answer, verdict.details)
        wrong = task.metadata.get("wrong")
        if wrong is None:  # Arithmetic's tasks carry no wrong answer: use the gold plus one
            wrong = f"{task.answer} + 1"
        reward, verdict = _episode(env, seed, boxed(str(wrong)))
        assert reward == 0.0 and not verdict.masked, (seed, task.prompt, task.answer, wrong)
        reward, _ = _episode(env, seed, f"\\boxed{{{task.answer}}}")  # the bare gold, boxed
        assert reward == 1.0, (seed, task.prompt, task.answer)


@pytest.mark.parametrize("env_id", PROCEDURAL + ["nemogym/MathQA-v0"])
def test_nemogym_check_passes(env_id):
    report = check(env_id, tasks=5)
    assert report.ok, [(r.name, r.detail) for r in report.results if not r.ok]


@pytest.mark.parametrize("env_id", PROCEDURAL)
def test_seeds_and_difficulty(env_id):
    a, b = nemogym.make(env_id, difficulty=2), nemogym.make(env_id, difficulty=2)
    assert a.reset(seed=5)[0] == b.reset(seed=5)[0]
    prompts = {a.reset(seed=s)[0]["messages"][-1]["content"] for s in range(30)}
    assert len(prompts) > 15
    hard = nemogym.make(env_id, difficulty=5)
    assert a.reset(seed=1)[0] != hard.reset(seed=1)[0]
    if env_id != "nemogym/Arithmetic-v0":
        with pytest.raises(ValueError):
            nemogym.make(env_id, difficulty=9)


def test_arithmetic_keeps_its_contract():
    env = nemogym.make("Arithmetic-v0", difficulty=2)
    calls = []

    def custom(response, gold):
        calls.append((response, gold))
        return verify(response, gold)

    env2 = nemogym.make("Arithmetic-v0", difficulty=2, verifier=custom)
    env2.reset(seed=3)
    env2.step(env2.reference_action())
    assert calls and env.fixtures()


def test_mathqa_default_data_and_gsm8k_answers():
    env = nemogym.make("MathQA-v0")
    assert len(env.tasks) >= 20
    system = env.reset(options={"task_index": 0})[0]["messages"][0]
    assert system["role"] == "system" and "\\boxed{}" in system["content"]
    for i in range(len(env.tasks)):
        task = env.tasks.get(i)
        env.reset(options={"task_index": i})
        _o, reward, *_rest, info = env.step(env.reference_action())
        assert reward == 1.0, (task.id, task.answer, info["verdict"].details)
    gsm = [t for t in env.tasks if "####" in str(t.answer)]
    assert gsm, "the example data must hold GSM8K-style answers"
    t = gsm[0]
    idx = env.tasks.tasks.index(t)
    env.reset(options={"task_index": idx})
    _o, reward, *_ = env.step(f"so the total is \\boxed{{{gold_text(t.answer)}}}")
    assert reward == 1.0
    env.reset(options={"task_index": idx})
    _o, reward, *_ = env.step(f"\\boxed{{{gold_text(t.answer)}1}}")
    assert reward == 0.0


def test_mathqa_local_files_and_field_mapping(tmp_path):
    rows = [{"problem": f"What is {k} + {k}?", "solution": f"It is $\\boxed{{{2 * k}}}$.", "uid": k}
            for k in range(5)]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    env = nemogym.make("MathQA-v0", data=str(path), question_field="problem",
                       answer_field="solution", prompt_template="Q: {question}\nA:",
                       system_prompt="Box it.")
    obs, _ = env.reset(options={"task_index": 2})
    assert obs["messages"][0]["content"] == "Box it."
    assert obs["messages"][1]["content"] == "Q: What is 2 + 2?\nA:"
    assert env.step("\\boxed{4}")[1] == 1.0
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "mine.parquet")
    env = nemogym.make("MathQA-v0", data=str(tmp_path / "mine.parquet"), question_field="problem",
                       answer_field="solution", limit=3)
    assert len(env.tasks) == 3
    env.reset(options={"task_index": 1})
    assert env.step("The final answer is 2.")[1] == 1.0


def test_mathqa_bad_data_is_a_clear_error(tmp_path):
    from nemogym.tasks import DatasetError

    with pytest.raises(DatasetError, match="not found"):
        nemogym.make("MathQA-v0", data=str(tmp_path / "missing.jsonl"))
    (tmp_path / "x.jsonl").write_text(json.dumps({"q": "1+1"}) + "\n")
    with pytest.raises(DatasetError):
        nemogym.make("MathQA-v0", data=str(tmp_path / "x.jsonl"))


def test_verifier_options_reach_the_verifier():
    env = nemogym.make("PercentWord-v0", verifier_options={"percent": "fraction"})
    assert env.verifier_options == {"percent": "fraction"}
    with pytest.raises(TypeError):
        nemogym.make("PercentWord-v0", verifier=lambda r, g: None, verifier_options={"x": 1})


def test_symbolic_answers_through_the_env_and_async():
    import asyncio

    rows = [{"question": "Sum of 1..n?", "answer": "\\frac{n(n+1)}{2}"},
            {"question": "Roots of x^2 = 4?", "answer": "-2, 2"}]
    env = nemogym.make("MathQA-v0", data=rows)
    env.reset(options={"task_index": 0})
    assert env.step("\\boxed{\\binom{n+1}{2}}")[1] == 1.0  # needs sympy: runs in a thread
    env.reset(options={"task_index": 0})
    assert env.step("\\boxed{\\binom{n}{2}}")[1] == 0.0

    async def episode(i, action):
        e = nemogym.make("MathQA-v0", data=rows)
        await e.areset(options={"task_index": i})
        return (await e.astep(action))[1]

    async def many():
        return await asyncio.gather(episode(0, "\\boxed{\\frac{n^2+n}{2}}"), episode(1, "\\boxed{2, -2}"),
                                    episode(1, "\\boxed{2} or \\boxed{5}"), episode(0, "\\boxed{\\binom{n+1}{2}}"))

    assert asyncio.run(many()) == [1.0, 1.0, 0.0, 1.0]


def test_mathqa_from_a_saved_hf_dataset_with_splits(tmp_path):
    import datasets

    rows = [{"question": f"What is {k} squared?", "answer": f"#### {k * k}"} for k in range(4)]
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows),
                               "test": datasets.Dataset.from_list(rows[:2])})
    dd.save_to_disk(str(tmp_path / "squares"))
    env = nemogym.make("MathQA-v0", data=str(tmp_path / "squares"), split="test")
    assert len(env.tasks) == 2
    env.reset(options={"task_index": 1})
    assert env.step("1 squared is \\boxed{1}")[1] == 1.0
