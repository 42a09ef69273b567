"""ITSM-v0 on real SQLite worlds: references score 1.0 on every template and world, doing
nothing and breaking the policy do not, the db is per-episode and seeded, the rules hold."""

import asyncio

import pytest
from nemogym.envs.enterprise.common import copy_db
from nemogym.envs.enterprise.itsm.data import NOW, build_world, priority_for, sla_due
from nemogym.envs.enterprise.itsm.env import ITSMEnv
from nemogym.envs.enterprise.itsm.tasks import TEMPLATES
from nemogym.envs.tools.base import run_oracle, run_script, step_message

import nemogym

N_WORLDS = ITSMEnv.n_worlds
ALL = range(len(TEMPLATES) * N_WORLDS)


@pytest.fixture(scope="module")
def env():
    return ITSMEnv()


def _name(env, i):
    return env.tasks.get(i).metadata["template"]


def test_catalogue():
    env = nemogym.make("nemogym/ITSM-v0")
    assert 8 <= len(env.toolset) <= 15 and len(TEMPLATES) >= 12
    kinds = {t.kind for t in TEMPLATES}
    assert {"ask-user", "refuse", "escalate", "multi-step"} <= kinds
    assert "Priority is always computed from impact x urgency" in env.system_prompt
    assert nemogym.env_info("ITSM-v0").multi_turn


def test_every_reference_scores_one_on_every_world(env):
    failures = []
    for i in ALL:
        v, _ = run_oracle(env, task_index=i)
        if v is None or v.reward != 1.0 or v.masked:
            failures.append((i, _name(env, i), v and v.reason))
    assert not failures


def test_doing_nothing_scores_zero(env):
    for i in ALL:
        v, _ = run_script(env, ["I have noted your request. Goodbye."], task_index=i)
        assert v.reward == 0.0 and not v.masked, (i, _name(env, i))


def test_policy_violations_never_score_one_and_are_named(env):
    checked = 0
    for i in ALL:
        bad = env.tasks.get(i).metadata.get("violation")
        if not bad:
            continue
        checked += 1
        v, _ = run_script(env, [step_message(s, t) for t, s in enumerate(bad)] + ["Bye."], task_index=i)
        assert v.reward == 0.0, (i, _name(env, i))
        assert v.components["policy"] == 0.0 and v.details["policy"]["violations"], (i, _name(env, i))
    assert checked >= 10 * N_WORLDS


def test_fixtures_score_as_labelled(env):
    fixtures = env.fixtures()
    assert {f.kind for f in fixtures} >= {"full", "zero", "malformed", "violation"}
    for f in fixtures:
        v, _ = run_script(env, f.action + [""] * 2, task_index=f.task_index)
        assert v is not None and v.reward == f.reward, f.name


def test_checker_passes():
    from nemogym.checker import check

    report = check("nemogym/ITSM-v0", tasks=len(TEMPLATES))
    assert report.ok, [(r.name, r.detail) for r in report.results if not r.ok]


def test_same_seed_same_db_and_different_seeds_differ():
    a, b, c = build_world(3), build_world(3), build_world(4)
    assert list(a.iterdump()) == list(b.iterdump()) != list(c.iterdump())
    counts = {t: a.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("users", "tickets", "notes", "cis")}
    assert counts["users"] >= 100 and counts["tickets"] >= 300 and counts["notes"] >= 200 and counts["cis"] >= 40
    states = {r[0] for r in a.execute("SELECT DISTINCT state FROM tickets")}
    assert states == {"new", "in_progress", "on_hold", "resolved", "closed", "cancelled"}
    bad = a.execute("SELECT count(*) FROM tickets WHERE priority != min(4, impact + urgency - 1)").fetchone()[0]
    assert bad == 0


def test_reset_with_a_seed_is_reproducible(env):
    other = ITSMEnv()
    for seed in (0, 1, 7):
        assert env.reset(seed=seed)[0] == other.reset(seed=seed)[0]


def test_priority_matrix_and_sla():
    assert [[priority_for(i, u) for u in (1, 2, 3)] for i in (1, 2, 3)] == [[1, 2, 3], [2, 3, 4], [3, 4, 4]]
    assert sla_due("2026-03-02 10:00", 1) == ("2026-03-02 10:15", "2026-03-02 14:00")
    assert sla_due("2026-03-02 10:00", 3) == ("2026-03-02 14:00", "2026-03-05 10:00")


def test_two_concurrent_episodes_never_see_each_others_writes():
    e1, e2 = ITSMEnv(), ITSMEnv()
    i = next(k for k in range(len(TEMPLATES)) if TEMPLATES[k].name == "cancel_request")
    task = e1.tasks.get(i)
    tid = task.reference[-2]["arguments"]["ticket_id"]

    async def play(env, script):
        await env.areset(options={"task_index": i})
        out = []
        for action in script:
            await asyncio.sleep(0)  # interleave the two episodes
            out.append(await env.astep(action))
            if out[-1][2] or out[-1][3]:
                break
        return out

    async def both():
        e2_script = [step_message(s, t) for t, s in enumerate(task.reference[:3])]
        return await asyncio.gather(play(e1, e1.reference_for(task)), play(e2, e2_script))
    r1, r2 = asyncio.run(both())
    assert r1[-1][1] == 1.0 and r1[-1][2]
    # e2 is still open, on its own db: the ticket e1 cancelled is untouched there
    state = e2.episode.data["state"]["db"].execute("SELECT state FROM tickets WHERE ticket_id = ?", (tid,)).fetchone()[0]
    assert state != "cancelled"
    fresh = ITSMEnv.world_cache().template(task.metadata["world_seed"])
    assert fresh.execute("SELECT state FROM tickets WHERE ticket_id = ?", (tid,)).fetchone()[0] == state


def test_wrong_priority_and_unverified_caller_are_violations(env):
    i = next(k for k in range(len(TEMPLATES)) if TEMPLATES[k].name == "raise_impact")
    task = env.tasks.get(i)
    tid = task.reference[2]["arguments"]["ticket_id"]
    upd = {"name": "update_ticket", "arguments": {"ticket_id": tid, "impact": 1}}
    # right change, but without identifying the caller first
    v, _ = run_script(env, [step_message(upd, 0), f"{tid} is now P{priority_for(1, 2)}."], task_index=i)
    assert v.reward == 0.0 and any("before identifying" in x for x in v.details["policy"]["violations"])


def test_tool_errors_for_missing_records_and_closed_tickets(env):
    env.reset(options={"task_index": 0})
    closed = env.episode.data["state"]["db"].execute(
        "SELECT ticket_id FROM tickets WHERE state = 'closed' LIMIT 1").fetchone()[0]
    calls = [{"name": "get_ticket", "arguments": {"ticket_id": "INC9999999"}},
             {"name": "resolve_ticket", "arguments": {"ticket_id": closed, "resolution_code": "fixed",
                                                      "resolution_notes": "x"}},
             {"name": "create_ticket", "arguments": {"caller_id": "U1001", "type": "incident", "category": "network",
                                                     "short_description": "x", "impact": 4, "urgency": 1}}]
    obs, *_ = env.step(step_message(calls, 0))
    out = [m["content"] for m in obs["messages"] if m["role"] == "tool"]
    assert out[0] == "Error: ticket INC9999999 not found"
    assert "only open tickets can be resolved" in out[1]
    assert out[2].startswith("Error: invalid arguments for create_ticket: impact")


def test_escalation_moves_p1_to_major_incident(env):
    i = next(k for k in range(len(TEMPLATES)) if TEMPLATES[k].name == "major_incident")
    run_oracle(env, task_index=i)
    task = env.tasks.get(i)
    db = env.expected_db(task)
    tid = task.reference[-2]["arguments"]["ticket_id"]
    row = db.execute("SELECT priority, assignment_group, escalation_level, resolve_due FROM tickets "
                     "WHERE ticket_id = ?", (tid,)).fetchone()
    assert tuple(row) == (1, "Major Incident", 1, sla_due(NOW, 1)[1])


def test_episode_db_copy_is_private():
    src = build_world(0)
    dst = copy_db(src)
    dst.execute("DELETE FROM tickets")
    assert src.execute("SELECT count(*) FROM tickets").fetchone()[0] == 300


def test_fast_state_check_agrees_with_a_full_comparison(env):
    from nemogym.envs.enterprise.common import changed_keys
    from nemogym.envs.tools.base import reference_calls
    from nemogym.verifiers import tools as tv

    compared = 0
    for i in range(len(TEMPLATES) * 2):
        task = env.tasks.get(i)
        expected = env.expected_db(task)
        for script in (task.metadata.get("violation") or [], task.reference, []):
            db = env.world_cache().fresh(task.metadata["world_seed"])
            state = env.state_for(task, db)
            for c in reference_calls(script):
                try:
                    env.toolset[c["name"]].call(c["arguments"], state)
                except Exception:  # noqa: BLE001 - a refused call simply changes nothing
                    pass
            mine, theirs = changed_keys(db), changed_keys(expected)
            only = {t: mine[t] | theirs[t] for t in mine}
            kw = {"tables": env.compared_tables, "ignore_columns": env.ignore_columns}
            full, fast = tv.compare_db(db, expected, **kw), tv.compare_db(db, expected, only_keys=only, **kw)
            assert (full.reward, full.details["n_diff"]) == (fast.reward, fast.details["n_diff"]), (i, script)
            compared += full.reward == 0.0
    assert compared >= len(TEMPLATES)  # the check saw plenty of differing databases


def test_hermes_text_agent_and_extra_reads_still_score_one(env):
    import json

    from nemogym.envs.tools.base import reference_calls

    for name in ("report_incident", "reassign_category", "major_incident"):
        i = next(k for k in range(len(TEMPLATES)) if TEMPLATES[k].name == name)
        task = env.tasks.get(i)
        script = []
        for step in task.reference:
            if isinstance(step, str):
                script.append(step)
            else:
                blocks = "".join(f"<tool_call>{json.dumps(c)}</tool_call>" for c in reference_calls([step]))
                script.append(f"Let me do that.\n{blocks}")
        extra = {"name": "search_tickets", "arguments": {"state": "open", "limit": 3}}
        script.insert(1, f"<tool_call>{json.dumps(extra)}</tool_call>")
        v, _ = run_script(env, script, task_index=i)
        assert v.reward == 1.0, (name, v.reason)
        assert v.components["efficiency"] < 1.0 and v.details["bad_calls"] == {}


def test_episodes_in_threads_share_caches_safely():
    from concurrent.futures import ThreadPoolExecutor

    def worker(offset):
        e = ITSMEnv()
        return [run_oracle(e, task_index=offset * 15 + i)[0].reward for i in range(15)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(worker, range(4)))
    assert results == [[1.0] * 15] * 4


def test_status_reply_that_writes_the_state_as_stored_scores_1():
    """A reply saying "in_progress" (the state as the tools return it) has the required fact."""
    env = nemogym.make("nemogym/ITSM-v0").unwrapped
    i = next(i for i in range(60) if env.tasks.get(i).metadata["template"] == "check_status"
             and "in_progress" in str(env.tasks.get(i).metadata["required_facts"]))
    ref = env.reference_for(env.tasks.get(i))
    reply = ref[-1]["content"].replace("in progress", "in_progress")
    assert "in_progress" in reply
    verdict, _ = run_script(env, [*ref[:-1], reply], task_index=i)
    assert verdict.reward == 1.0, verdict.reason


def test_answering_without_identifying_the_caller_scores_0():
    """A reply that lists every state, priority and group, with no lookup at all, used to meet
    the required facts of the lookup and refusal tasks (nothing changed in the db, so the state
    matched). The policy says to identify the caller by email before discussing any ticket."""
    env = ITSMEnv()
    shotgun = ("Your ticket is new, in progress, on hold, resolved, closed or cancelled; priority P1, P2, "
               "P3 or P4; with Service Desk, Desktop Support, Network, Identity & Access, Applications, "
               "Database, Security or Major Incident.")
    for i, tpl in enumerate(TEMPLATES):
        verdict, _ = run_script(env, [shotgun], task_index=i)
        assert verdict is None or verdict.reward == 0.0, tpl.name
    i = next(i for i, t in enumerate(TEMPLATES) if t.name == "check_status")
    verdict, _ = run_script(env, [shotgun], task_index=i)
    assert "without identifying" in verdict.reason
    assert run_oracle(env, task_index=i)[0].reward == 1.0
