"""ToolEnv on a real SQLite db: the call loop, every bad-call kind, users, oracle and fixtures."""

import asyncio
import json
import sqlite3

import pytest
from gymnasium.utils.env_checker import check_env
from nemogym.envs.tools.base import ToolEnv, run_oracle, run_script
from nemogym.envs.tools.schema import ToolError, make_tool
from nemogym.envs.tools.users import STOP, LLMUser, ScriptedUser

from nemogym.policies.base import PolicyError, PolicyResponse
from nemogym.tasks import Task, TaskSource


def add_note(db: sqlite3.Connection, user_id: str, text: str) -> dict:
    """Add a note.

    Args:
        text: the note.
    """
    cur = db.execute("INSERT INTO notes (owner, text) VALUES (?, ?)", (user_id, text))
    if text == "explode":
        raise RuntimeError("disk on fire")  # after the insert: must be rolled back
    if text == "refuse":
        raise ToolError("notes may not say 'refuse'")
    return {"id": cur.lastrowid}


def count_notes(db: sqlite3.Connection) -> int:
    """How many notes exist."""
    return db.execute("SELECT count(*) FROM notes").fetchone()[0]



def _finish(summary: str) -> str:
    """End the session.

    Args:
        summary: what was done.
    """
    return f"done: {summary}"


class Tasks(TaskSource):
    size = 2

    def get(self, index):
        if index == 0:
            return Task(prompt="Please save a note.", id="t0",
                        reference=["What should the note say?", {"name": "add_note", "arguments": {"text": "buy milk"}},
                                   "Saved your note: buy milk."],
                        metadata={"required_facts": ["buy milk"],
                                  "user_facts": [{"key": "note", "value": "buy milk", "keywords": ["note", "say"],
                                                  "say": "It should say: buy milk."}]})
        return Task(prompt="Count and finish.", id="t1",
                    reference=[[{"name": "count_notes", "arguments": {}},
                                {"name": "finish", "arguments": {"summary": "counted"}}]])


class NotesEnv(ToolEnv):
    tools = [add_note, count_notes, make_tool(_finish, name="finish", terminal=True)]

    def make_state(self, episode):
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT, text TEXT)")
        return {"db": db, "user_id": "U7"}


def call(name, args, cid="c"):
    raw = args if isinstance(args, str) else json.dumps(args)
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": raw}}


def msg(*calls, content=None):
    return {"role": "assistant", "content": content, "tool_calls": list(calls)}


def notes(env):
    return [tuple(r) for r in env.episode.data["state"]["db"].execute("SELECT owner, text FROM notes")]


def test_schema_hides_state_and_reference_scores_full():
    env = NotesEnv(Tasks(), user="scripted")
    obs, _ = env.reset(options={"task_index": 0})
    tools = {t["function"]["name"]: t["function"] for t in obs["tools"]}
    assert set(tools) == {"add_note", "count_notes", "finish"}
    assert set(tools["add_note"]["parameters"]["properties"]) == {"text"}
    v, info = run_oracle(env, task_index=0)
    assert v.reward == 1.0 and v.details["finished_by"] == "user" and v.details["bad_calls"] == {}
    v, _ = run_oracle(env, task_index=1)
    assert v.reward == 1.0 and v.details["finished_by"] == "finish"


def test_each_bad_call_kind_is_reported_and_counted_without_raising():
    env = NotesEnv(Tasks(), user="scripted")
    env.reset(options={"task_index": 0})
    obs, r, term, trunc, _ = env.step(msg(
        call("nope", {}, "1"), call("add_note", "{not json", "2"), call("add_note", {"txt": "x"}, "3"),
        call("add_note", {"text": "explode"}, "4"), call("add_note", {"text": "refuse"}, "5")))
    assert not term and not trunc and r == 0.0
    results = {m["tool_call_id"]: m["content"] for m in obs["messages"] if m["role"] == "tool"}
    assert results["1"].startswith("Error: unknown tool 'nope'") and "add_note" in results["1"]
    assert "not valid JSON" in results["2"]
    assert "text: missing required argument" in results["3"] and "txt: unknown argument" in results["3"]
    assert "RuntimeError: disk on fire" in results["4"]
    assert results["5"] == "Error: notes may not say 'refuse'"
    assert notes(env) == []  # the failed calls changed nothing (savepoint rolled back)
    env.step(msg(call("add_note", {"text": "buy milk"})))
    assert notes(env) == [("U7", "buy milk")]
    _, _, term, _, info = env.step("Saved: buy milk.")
    v = info["verdict"]
    assert term and v.details["bad_calls"] == {"unknown_tool": 1, "bad_json": 1, "invalid_args": 1, "tool_raised": 2}
    assert v.details["n_calls"] == 6


def test_too_many_calls_in_one_turn():
    env = NotesEnv(Tasks(), max_calls_per_turn=2)
    env.reset(options={"task_index": 0})
    obs, *_ = env.step(msg(*[call("add_note", {"text": f"n{i}"}, f"c{i}") for i in range(4)]))
    tool_msgs = [m for m in obs["messages"] if m["role"] == "tool"]
    assert len(tool_msgs) == 4 and all("too many tool calls" in m["content"] for m in tool_msgs[2:])
    assert [t for _, t in notes(env)] == ["n0", "n1"]
    _, _, _, _, info = env.step("ok")
    assert info["verdict"].details["bad_calls"] == {"too_many_calls": 2}


def test_too_many_turns_truncates_and_counts():
    env = NotesEnv(Tasks(), max_turns=3)
    env.reset(options={"task_index": 0})
    for i in range(3):
        _, _, term, trunc, info = env.step(msg(call("count_notes", {}, f"c{i}")))
    assert trunc and not term
    v = info["verdict"]
    assert v.details["bad_calls"] == {"too_many_turns": 1} and v.details["finished_by"] == "turn limit"
    assert v.reward == 0.0 and not v.masked


def test_terminal_tool_ends_and_skips_later_calls():
    env = NotesEnv(Tasks())
    env.reset(options={"task_index": 1})
    obs, _, term, _, info = env.step(msg(call("finish", {"summary": "x"}, "a"), call("add_note", {"text": "late"}, "b")))
    assert term and info["verdict"].details["finished_by"] == "finish"
    assert obs["messages"][-1]["content"].startswith("Not executed")


def test_hermes_text_fallback_and_its_switch():
    env = NotesEnv(Tasks())
    env.reset(options={"task_index": 0})
    obs, _, term, *_ = env.step('<tool_call>{"name": "add_note", "arguments": {"text": "buy milk"}}</tool_call>')
    assert not term and notes(env) == [("U7", "buy milk")] and obs["messages"][-1]["role"] == "tool"
    _, r, term, _, info = env.step("Saved: buy milk.")
    assert term and r == 1.0
    off = NotesEnv(Tasks(), text_fallback=False)
    off.reset(options={"task_index": 0})
    _, r, term, *_ = off.step('<tool_call>{"name": "add_note", "arguments": {"text": "buy milk"}}</tool_call>')
    assert term and r == 0.0  # a plain text reply ends the episode; nothing was called


def test_do_nothing_and_malformed_score_zero():
    env = NotesEnv(Tasks(), user="scripted")
    v, _ = run_script(env, ["I cannot help."], task_index=0)
    assert v.reward == 0.0 and v.details["finished_by"] == "user"
    v, _ = run_script(env, [{"role": "user", "content": 42}], task_index=0)
    assert v.reward == 0.0 and "malformed" in v.reason


def test_fixtures_score_as_labelled():
    env = NotesEnv(Tasks(), user="scripted")
    for f in env.fixtures():
        v, _ = run_script(env, f.action + [""] * 3, task_index=f.task_index)
        assert v is not None and v.reward == f.reward, f.name


def test_missing_injected_state_is_masked_not_raised():
    class Broken(NotesEnv):
        def make_state(self, episode):
            return {}
    env = Broken(Tasks())
    env.reset(options={"task_index": 0})
    _, r, term, _, info = env.step(msg(call("add_note", {"text": "x"})))
    assert term and info["verdict"].masked and "injected state" in info["verdict"].failure


def test_scripted_user_reveals_only_what_is_asked():
    user = ScriptedUser(max_replies=2)
    task = Task(prompt="hi", metadata={"user_closing": "Bye!", "user_facts": [
        {"key": "email", "value": "a@b.c", "keywords": ["email", "e-mail"]},
        {"key": "order number", "value": "42", "keywords": ["order"], "say": "Order 42."}]})
    state: dict = {}
    t = user.reply(task, "What is your e-mail?", state)
    assert t.content == "My email is a@b.c." and not t.done
    t = user.reply(task, "And the order?", state)
    assert t.content == "Order 42." and not t.done
    t = user.reply(task, "Could you repeat the email?", state)  # max_replies reached
    assert t.done and t.content == "Bye!"
    state = {}
    t = user.reply(task, "What's your favourite colour?", state)  # a question it cannot answer
    assert not t.done and t.content.startswith("I'm not sure")
    assert user.reply(task, "Is there anything else I can do?", state).done  # a closing question
    assert user.reply(task, "Your email is noted.", {"revealed": {"email"}}).done  # a statement
    assert not user.reply(task, "Please tell me the order.", state).done  # a new fact, even without "?"
    assert asyncio.run(user.areply(task, [{"role": "assistant", "content": "email?"}], {})).content.startswith("My")


class ScriptPolicy:
    """A real in-process Policy: answers from a list (what a user model would say)."""

    name, model = "script", None

    def __init__(self, replies):
        self.replies, self.seen = list(replies), []

    async def __call__(self, messages, tools=None, *, sampling=None, context=None):
        self.seen.append(messages)
        if not self.replies:
            raise PolicyError("user model is down")
        return PolicyResponse(message={"role": "assistant", "content": self.replies.pop(0)})

    async def aclose(self):
        pass


def test_llm_user_role_swaps_and_stops():
    pol = ScriptPolicy(["It should say: buy milk.", f"Thanks! {STOP}"])
    env = NotesEnv(Tasks(), user=LLMUser(pol))
    env.reset(options={"task_index": 0})
    obs, _, term, *_ = env.step("What should the note say?")
    assert not term and obs["messages"][-1] == {"role": "user", "content": "It should say: buy milk."}
    sent = pol.seen[0]
    assert sent[0]["role"] == "system" and "buy milk" in sent[0]["content"] and STOP in sent[0]["content"]
    assert sent[1] == {"role": "assistant", "content": "Please save a note."}  # the user's own opening
    assert sent[2] == {"role": "user", "content": "What should the note say?"}  # the agent, as "user"
    env.step(msg(call("add_note", {"text": "buy milk"})))
    _, r, term, _, info = env.step("Saved: buy milk.")
    assert term and r == 1.0 and info["verdict"].details["finished_by"] == "user"
    assert env.episode.messages[-1]["content"] == "Thanks!"


def test_llm_user_failure_masks_the_episode():
    env = NotesEnv(Tasks(), user=LLMUser(ScriptPolicy([])))
    env.reset(options={"task_index": 0})
    _, _, term, _, info = env.step("What should it say?")
    assert term and info["verdict"].masked and "user model is down" in info["verdict"].failure


def test_async_api_and_gymnasium_checker():
    env = NotesEnv(Tasks(), user="scripted")
    check_env(env, skip_render_check=True)

    async def go():
        await env.areset(options={"task_index": 1})
        return await env.astep(env.reference_action())
    _, r, term, _, _ = asyncio.run(go())
    assert term and r == 1.0


def test_duplicate_tool_names_rejected():
    with pytest.raises(ValueError, match="two tools"):
        NotesEnv(Tasks(), tools=[count_notes, count_notes])


def test_async_tools_are_awaited_and_infra_errors_mask():
    from nemogym.envs.tools.schema import InfraError

    async def slow_count(db: sqlite3.Connection) -> int:
        """Count notes, asynchronously."""
        await asyncio.sleep(0)
        return db.execute("SELECT count(*) FROM notes").fetchone()[0]

    def backend_down() -> str:
        """Needs a service that is down."""
        raise InfraError("service unavailable")

    env = NotesEnv(Tasks(), tools=[add_note, make_tool(slow_count), make_tool(backend_down)])
    env.reset(options={"task_index": 0})
    obs, _, term, *_ = env.step(msg(call("add_note", {"text": "a"}, "1"), call("slow_count", {}, "2")))
    assert not term and obs["messages"][-1]["content"] == "1"
    _, _, term, _, info = env.step(msg(call("backend_down", {})))
    assert term and info["verdict"].masked and "service unavailable" in info["verdict"].failure


def test_llm_user_over_a_real_openai_http_server():
    """The simulated user through the OpenAI-compatible HTTP policy (a stub server on 127.0.0.1)."""
    from nemogym.policies.openai_http import OpenAIHTTPPolicy
    from nemogym.serve.openai_stub import start_stub_server

    url, stop = start_stub_server("echo", reply=f"It should say: buy milk. {STOP}")
    url_bad, stop_bad = start_stub_server("fail500")
    try:
        env = NotesEnv(Tasks(), user=LLMUser(OpenAIHTTPPolicy(url, "user-model", backoff_s=0.01)))
        env.reset(options={"task_index": 0})
        env.step(msg(call("add_note", {"text": "buy milk"})))
        _, r, term, _, info = env.step("Saved: buy milk. Anything else?")
        assert term and r == 1.0 and info["verdict"].details["finished_by"] == "user"
        assert env.episode.messages[-1] == {"role": "user", "content": "It should say: buy milk."}
        bad = NotesEnv(Tasks(), user=LLMUser(OpenAIHTTPPolicy(url_bad, "m", max_retries=1, backoff_s=0.01)))
        bad.reset(options={"task_index": 0})
        _, _, term, _, info = bad.step("What should it say?")
        assert term and info["verdict"].masked  # the user model failing is not the agent's fault
    finally:
        stop()
        stop_bad()


def test_deeply_nested_arguments_are_a_bad_call_not_a_masked_episode():
    """JSON nested past Python's recursion limit is the model's malformed output: a bad_json
    call the model is told about (and scored on), never a RecursionError masking the episode."""
    deep = "[" * 100_000
    env = NotesEnv(Tasks(), user="scripted")
    env.reset(options={"task_index": 0})
    obs, r, term, trunc, _ = env.step(msg(call("add_note", deep, "1")))
    assert not term and not trunc
    assert "not valid JSON" in obs["messages"][-1]["content"]
    obs, r, term, trunc, _ = env.step({"role": "assistant", "content": "<tool_call>" + deep})
    assert not term and "not valid JSON" in obs["messages"][-1]["content"]
    _, _, term, _, info = env.step("Done.")
    v = info["verdict"]
    assert term and not v.masked and v.reward == 0.0 and v.details["bad_calls"] == {"bad_json": 2}


def test_users_see_the_agent_text_without_its_tool_call_blocks():
    """Hermes <tool_call> blocks are requests to the env, not words to the user: the LLM user
    is not shown them, and the scripted user answers the agent's latest message only."""
    pol = ScriptPolicy(["It should say: buy milk."])
    env = NotesEnv(Tasks(), user=LLMUser(pol))
    env.reset(options={"task_index": 0})
    env.step({"role": "assistant", "content": 'Let me check. <tool_call>{"name": "count_notes", '
                                               '"arguments": {}}</tool_call>'})
    env.step("What should the note say?")
    sent = pol.seen[0]
    assert all("<tool_call>" not in m["content"] for m in sent)
    assert [m["role"] for m in sent] == ["system", "assistant", "user", "user"]
    assert sent[2] == {"role": "user", "content": "Let me check."}
    task = Tasks().get(0)
    convo = [{"role": "assistant", "content": '<tool_call>{"name": "add_note", "arguments": '
                                              '{"text": "note, say?"}}</tool_call>'},
             {"role": "tool", "content": "OK"}, {"role": "assistant", "content": None}]
    turn = asyncio.run(ScriptedUser().areply(task, convo, {}))
    assert turn.done and "buy milk" not in turn.content  # an empty reply is not a question about the note
