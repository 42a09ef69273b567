"""CRM-v0 and HR-v0 end to end: references score 1.0 on every template across worlds, doing
nothing and policy-violating scripts do not, the scripted user reveals facts only when asked,
episodes never see each other's writes, and the same seed gives the same database."""

from __future__ import annotations

import asyncio
import json

import pytest
from nemogym.envs.enterprise.common import copy_db
from nemogym.envs.tools.base import run_oracle, run_script, step_message
from nemogym.verifiers import tools as tv

import nemogym

ENVS = ["nemogym/CRM-v0", "nemogym/HR-v0"]
#: Templates whose violation script must be caught by the policy component itself.
POLICY_FLAGGED = {
    "nemogym/CRM-v0": {"approval_discount", "excessive_discount", "not_owner", "merge_duplicates",
                       "create_contact_duplicate", "rep_self_approve"},
    "nemogym/HR-v0": {"insufficient_balance", "overlap", "probation", "sick_certificate", "team_coverage",
                      "approve_not_report", "carry_over_excess"},
}


@pytest.fixture(scope="module", params=ENVS)
def env(request):
    e = nemogym.make(request.param)
    yield e
    e.close()


def _dump(db) -> list[str]:
    return list(db.iterdump())


def test_registered_with_enough_tools_and_templates(env):
    info = env.env_info
    assert info.multi_turn and info.uses_tools and info.domain == "enterprise"
    assert 8 <= len(env.toolset) <= 15
    assert len(env.templates) >= 12
    kinds = {t.kind for t in env.templates}
    assert {"multi-step", "refuse", "escalate", "ask-user"} <= kinds
    assert "policy" in env.system_prompt.lower() and len(env.system_prompt) > 1000


def test_schemas_hide_injected_state(env):
    for schema in env.tools_for(env.tasks.get(0)):
        fn = schema["function"]
        assert fn["description"] and not fn["description"].startswith(fn["name"])
        assert not {"db", "user_id", "now"} & set(fn["parameters"]["properties"]), fn["name"]


@pytest.mark.parametrize("world", range(8))
def test_every_reference_scores_one(env, world):
    n = len(env.templates)
    for i in range(world * n, (world + 1) * n):
        verdict, _ = run_oracle(env, task_index=i)
        assert verdict is not None and not verdict.masked, i
        assert verdict.reward == 1.0, (i, env.tasks.template_for(i).name, verdict.reason, verdict.details)
        assert verdict.details["bad_calls"] == {}


def test_seeded_resets_score_one(env):
    for seed in (7, 123, 99991):
        verdict, _ = run_oracle(env, seed=seed, task_index=env.tasks.index_for_seed(seed))
        assert verdict.reward == 1.0, (seed, verdict.reason)


def test_doing_nothing_scores_zero(env):
    for i, tpl in enumerate(env.templates):
        for action in ("I have noted your request. Goodbye.", ""):
            verdict, _ = run_script(env, [action], task_index=i)
            assert verdict is not None and verdict.reward == 0.0 and not verdict.masked, (tpl.name, action)


def test_policy_violations_do_not_score_one(env):
    flagged = POLICY_FLAGGED[env.env_info.id]
    seen = set()
    for world in (0, 1):
        for j, tpl in enumerate(env.templates):
            i = world * len(env.templates) + j
            bad = env.tasks.get(i).metadata.get("violation")
            if not bad:
                continue
            seen.add(tpl.name)
            verdict, _ = run_script(env, [step_message(s, t) for t, s in enumerate(bad)], task_index=i)
            assert verdict.reward == 0.0, (tpl.name, verdict.details)
            if tpl.name in flagged:
                assert verdict.components["policy"] == 0.0, (tpl.name, verdict.details["policy"])
                assert verdict.details["policy"]["violations"]
    assert flagged <= seen


def test_scripted_user_reveals_facts_only_when_asked(env):
    asked = 0
    for i, tpl in enumerate(env.templates):
        task = env.tasks.get(i)
        facts = task.metadata["user_facts"]
        if not facts:
            continue
        asked += 1
        secrets = [f["value"] for f in facts]
        # An agent that never asks: the user ends the conversation without revealing anything.
        verdict, _ = run_script(env, ["I'll take care of it. Is there anything else?"], task_index=i)
        assert verdict.reward == 0.0
        users = [m["content"] for m in env.episode.messages if m["role"] == "user"]
        assert not any(s in u for s in secrets for u in users), tpl.name
        # The reference: nothing before its question, every fact right after it.
        env.reset(options={"task_index": i})
        steps = env.reference_steps(task)
        ask = next(k for k, s in enumerate(steps) if isinstance(s, str))
        for k in range(ask + 1):
            before = [m["content"] for m in env.episode.messages if m["role"] == "user"]
            assert not any(s in u for s in secrets for u in before), (tpl.name, k)
            env.step(env.reference_action())
        answer = env.episode.messages[-1]
        assert answer["role"] == "user" and all(s in answer["content"] for s in secrets), tpl.name
    assert asked >= 3


def _write_steps(env, task):
    return [s for s in env.reference_steps(task) if isinstance(s, dict)]


def test_episodes_never_see_each_other_writes(env):
    index = 0  # a template whose reference writes
    a, b = nemogym.make(env.env_info.id), nemogym.make(env.env_info.id)
    a.reset(options={"task_index": index})
    b.reset(options={"task_index": index})
    pristine = a.world_cache().template(a.episode.task.metadata["world_seed"])
    for step in _write_steps(a, a.episode.task):
        a.step(step_message(step, 0))
    db_a, db_b = a.episode.data["state"]["db"], b.episode.data["state"]["db"]
    assert tv.compare_db(db_a, pristine).reward == 0.0  # A wrote...
    assert tv.compare_db(db_b, pristine).reward == 1.0  # ...B saw none of it
    assert tv.compare_db(copy_db(pristine), pristine).reward == 1.0
    c = nemogym.make(env.env_info.id)
    c.reset(options={"task_index": index})
    assert _dump(c.episode.data["state"]["db"]) == _dump(pristine)  # the world itself is untouched
    for e in (a, b, c):
        e.close()


def test_concurrent_episodes_each_score_one(env):
    n = len(env.templates)
    envs = [nemogym.make(env.env_info.id) for _ in range(n)]

    async def play(e, i):
        await e.areset(options={"task_index": i})
        while True:
            action = e.reference_action() or "Done."
            _, reward, terminated, truncated, info = await e.astep(action)
            await asyncio.sleep(0)  # let the other episodes interleave
            if terminated or truncated:
                return info["verdict"]

    async def main():
        return await asyncio.gather(*(play(e, i) for i, e in enumerate(envs)))

    verdicts = asyncio.run(main())
    assert [v.reward for v in verdicts] == [1.0] * n, [v.reason for v in verdicts]


def test_same_seed_same_database(env):
    build = type(env).build_world
    assert _dump(build(5)) == _dump(build(5))
    assert _dump(build(5)) != _dump(build(6))
    a, b = nemogym.make(env.env_info.id), nemogym.make(env.env_info.id)
    obs_a, _ = a.reset(seed=42)
    obs_b, _ = b.reset(seed=42)
    assert obs_a == obs_b
    assert _dump(a.episode.data["state"]["db"]) == _dump(b.episode.data["state"]["db"])


def test_worlds_have_hundreds_of_records(env):
    db = type(env).build_world(0)
    counts = {r[0]: db.execute(f'SELECT COUNT(*) FROM "{r[0]}"').fetchone()[0]
              for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert sum(counts.values()) >= 800, counts
    assert max(counts.values()) >= 300, counts


def test_bad_calls_are_errors_for_the_model(env):
    env.reset(options={"task_index": 0})
    db = env.episode.data["state"]["db"]
    before = _dump(db)
    write = _write_steps(env, env.episode.task)[-1]
    bad_args = dict(write["arguments"])
    first_key = next(iter(bad_args))
    calls = [
        {"id": "1", "type": "function", "function": {"name": "no_such_tool", "arguments": "{}"}},
        {"id": "2", "type": "function", "function": {"name": write["name"], "arguments": "{not json"}},
        {"id": "3", "type": "function", "function": {"name": write["name"], "arguments": json.dumps({"bogus": 1})}},
        {"id": "4", "type": "function", "function": {"name": write["name"],
                                                     "arguments": json.dumps({**bad_args, first_key: "NOPE-1"})}},
    ]
    obs, reward, terminated, truncated, _ = env.step({"role": "assistant", "content": None, "tool_calls": calls})
    assert not (terminated or truncated)
    results = [m["content"] for m in obs["messages"][-4:]]
    assert all(r.startswith("Error:") for r in results), results
    assert "NOPE-1" in results[3] and "no " in results[3]  # names the bad id
    assert _dump(db) == before
    assert env.bad_calls(env.episode) == {"unknown_tool": 1, "bad_json": 1, "invalid_args": 1, "tool_raised": 1}


class _EchoUserModel:
    """A stand-in user model: answers with the facts listed in its instructions, then stops."""

    name, model = "echo-user", None

    def __init__(self):
        self.prompts = []

    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        from nemogym.policies.base import PolicyResponse

        self.prompts.append(messages)
        facts = [ln.split(": ", 1)[1] for ln in messages[0]["content"].splitlines() if ln.startswith("- ")
                 and ": " in ln]
        text = " ".join(facts) if len(self.prompts) == 1 else "Thanks! ###STOP###"
        return PolicyResponse(message={"role": "assistant", "content": text})

    async def aclose(self):
        return None


def test_llm_user_gets_persona_and_facts(env):
    from nemogym.envs.tools.users import LLMUser

    model = _EchoUserModel()
    e = nemogym.make(env.env_info.id, user=LLMUser(model))
    index = next(i for i, _ in enumerate(e.templates) if e.tasks.get(i).metadata["user_facts"])
    verdict, _ = run_oracle(e, task_index=index)
    assert verdict.reward == 1.0, verdict.reason
    system = model.prompts[0][0]["content"]
    assert "You are " in system and e.episode.task.prompt in system
    assert all(f["value"] in system for f in e.episode.task.metadata["user_facts"])


def test_hr_transfer_only_when_the_policy_requires_it():
    e = nemogym.make("nemogym/HR-v0")
    names = [t.name for t in e.templates]
    verdict, _ = run_oracle(e, task_index=names.index("harassment_report"))
    assert verdict.reward == 1.0 and verdict.details["finished_by"] == "transfer_to_human"
    i = names.index("probation")
    steps = [step_message(s, t) for t, s in enumerate(e.reference_steps(e.tasks.get(i)))]
    transfer = step_message({"name": "transfer_to_human", "arguments": {"reason": "probation question"}}, 9)
    verdict, _ = run_script(e, [*steps[:-1], {**transfer, "content": steps[-1]["content"]}], task_index=i)
    assert verdict.reward == 0.0 and verdict.components["policy"] == 0.0


def test_hr_refusal_numbers_need_the_lookup_behind_them():
    """A reply listing every day count ("0 day ... 40 days remaining") with no lookup used to
    meet insufficient_balance's required fact; the task now needs the balance to be read."""
    env = nemogym.make("nemogym/HR-v0").unwrapped
    i = next(i for i, t in enumerate(env.templates) if t.name == "insufficient_balance")
    shotgun = "Sorry. " + " ".join(f"{n} day, {n} working day, {n} annual, {n} remaining, {n} more"
                                   for n in range(41))
    for w in range(3):
        verdict, _ = run_script(env, [shotgun], task_index=i + w * len(env.templates))
        assert verdict.reward == 0.0 and "get_leave_balance" in verdict.reason
        assert run_oracle(env, task_index=i + w * len(env.templates))[0].reward == 1.0
