"""``ToolEnv``: a multi-turn ``TaskEnv`` where the model calls Python tools over per-episode state.

API (stable; extend by adding, never renaming):

* Tools are plain typed, documented callables (or ``Tool`` from ``envs.tools.schema.make_tool``);
  parameters named ``db``, ``user_id``, ``now`` (or annotated ``Annotated[T, INJECTED]``)
  are injected by name from the episode's state dict and hidden from the schema. A tool
  raises ``ToolError("...")`` to refuse or fail with a message for the model; a tool made
  with ``terminal=True`` ends the episode.
* Subclass hooks: ``make_state(episode) -> dict`` (what tools get injected, e.g. ``{"db": conn,
  "user_id": "U1"}``; default ``{}``), ``close_state(state)`` (default closes sqlite3
  connections), ``score(episode) -> Verdict`` (default: reference-call matching plus required
  facts), ``reference_steps(task)`` (default ``task.reference``).
* ``task.reference`` is a list of steps, one per turn: ``{"name", "arguments"}`` (one call), a
  list of those (parallel calls in one turn), or a string (a text reply to the user).
  ``reference_action()`` returns the next step as an assistant message (the oracle path).
* The user: ``user=None`` (a text reply with no tool calls ends the episode), ``"scripted"``
  (``ScriptedUser``) or any ``UserSimulator`` (e.g. ``LLMUser(policy)``): text replies go to
  the user, who answers or ends the episode.
* Bad calls never raise out of ``step``: unknown tool, non-JSON arguments, invalid arguments,
  a tool that raises, too many calls in one turn, too many turns. Each becomes an ``Error: ...``
  tool message and is counted in ``verdict.details["bad_calls"]``. Each call runs in a sqlite
  SAVEPOINT when the state has a ``db`` connection: a call that raises changes nothing.
  Tools may be ``async def`` (awaited). A tool raises ``InfraError`` when *our* side failed
  (a sandbox died): that propagates and the episode is masked, never blamed on the model.
* Helpers for scoring: ``calls(ep)`` (every ``CallRecord``), ``ok_calls(ep)``, ``bad_calls(ep)``,
  ``agent_text(ep)`` (all text the agent sent), ``run_reference(task, state)``.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nemogym.envs.tools.parsing import ParsedCall, extract_calls, native_call, strip_tool_calls
from nemogym.envs.tools.schema import (
    InfraError,
    Tool,
    ToolArgumentError,
    ToolError,
    format_result,
    make_tool,
)
from nemogym.envs.tools.users import ScriptedUser, UserSimulator
from nemogym.verifiers import tools as tv

from nemogym.env import Episode, Fixture, Reply, TaskEnv
from nemogym.messages import Message, ToolSchema, tool_result
from nemogym.tasks import Task, TaskSource
from nemogym.verdict import Verdict

BAD_CALL_KINDS = ("unknown_tool", "bad_json", "invalid_args", "tool_raised",
                  "too_many_calls", "too_many_turns")


@dataclass
class CallRecord:
    """One tool call the agent made: what, when, and how it went."""

    turn: int
    id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: str
    error_kind: str | None = None  # one of BAD_CALL_KINDS, or None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


def step_message(step: Any, turn: int) -> Message:
    """A reference step (call dict, list of call dicts, or text) as an assistant message."""
    if isinstance(step, str):
        return {"role": "assistant", "content": step}
    calls = step if isinstance(step, list) else [step]
    return {"role": "assistant", "content": None, "tool_calls": [
        native_call(c["name"], c.get("arguments", {}), f"ref_{turn}_{i}") for i, c in enumerate(calls)]}


def reference_calls(steps: Sequence[Any] | None) -> list[dict[str, Any]]:
    """The tool calls of a reference script, flattened in order (text steps dropped)."""
    out: list[dict[str, Any]] = []
    for step in steps or []:
        if isinstance(step, dict):
            out.append({"name": step["name"], "arguments": dict(step.get("arguments", {}))})
        elif isinstance(step, list):
            out.extend({"name": c["name"], "arguments": dict(c.get("arguments", {}))} for c in step)
    return out


class ToolEnv(TaskEnv):
    """Multi-turn tool use over per-episode state; see the module docstring for the contract."""

    #: Tools every instance gets (callables or ``Tool``s); ``__init__(tools=...)`` overrides.
    tools: Sequence[Callable[..., Any] | Tool] = ()
    default_max_turns: int = 30
    max_calls_per_turn: int = 8
    #: Parse ``<tool_call>`` blocks from the content when there are no native tool calls.
    text_fallback: bool = True
    #: Default scoring: compare calls in order (True) or as a multiset (False).
    ordered_calls: bool = False
    #: Default scoring: whether calls beyond the reference's (e.g. extra reads) are allowed.
    allow_extra_calls: bool = False

    def __init__(self, tasks: TaskSource, *, tools: Sequence[Callable[..., Any] | Tool] | None = None,
                 user: UserSimulator | str | None = None, system_prompt: str | None = None,
                 max_turns: int | None = None, max_calls_per_turn: int | None = None,
                 text_fallback: bool | None = None, render_mode: str | None = None):
        super().__init__(tasks, system_prompt=system_prompt,
                         max_turns=max_turns or self.default_max_turns, render_mode=render_mode)
        self.toolset: dict[str, Tool] = {}
        for fn in (self.tools if tools is None else tools):
            t = make_tool(fn)
            if t.name in self.toolset:
                raise ValueError(f"two tools are named {t.name!r}")
            self.toolset[t.name] = t
        self.user: UserSimulator | None = ScriptedUser() if user == "scripted" else user  # type: ignore[assignment]
        if max_calls_per_turn is not None:
            self.max_calls_per_turn = max_calls_per_turn
        if text_fallback is not None:
            self.text_fallback = text_fallback

    # -- hooks for subclasses ------------------------------------------------------------
    def make_state(self, episode: Episode) -> dict[str, Any]:
        """The state injected into tools for this episode (e.g. a fresh db connection)."""
        return {}

    def close_state(self, state: dict[str, Any]) -> None:
        """Release the episode's state (default: close every sqlite3 connection in it)."""
        for v in state.values():
            if isinstance(v, sqlite3.Connection):
                v.close()

    def reference_steps(self, task: Task) -> list[Any]:
        """The task's reference script (see module docstring); default ``task.reference``."""
        ref = task.reference
        return list(ref) if isinstance(ref, list) else []

    def score(self, episode: Episode) -> Verdict:
        """Default scoring: the successful calls match the reference calls, plus required facts."""
        parts = {"calls": tv.match_calls([c.as_dict() for c in self.ok_calls(episode)],
                                         reference_calls(self.reference_steps(episode.task)),
                                         ordered=self.ordered_calls, allow_extra=self.allow_extra_calls)}
        facts = episode.task.metadata.get("required_facts")
        if facts:
            parts["facts"] = tv.required_facts(self.agent_text(episode), facts)
        return tv.combine(parts)

    # -- TaskEnv hooks ---------------------------------------------------------------------
    def tools_for(self, task: Task) -> list[ToolSchema]:
        return [t.schema for t in self.toolset.values()]

    def initial_messages(self, task: Task) -> list[Message]:
        msgs: list[Message] = []
        if self.system_prompt:
            msgs.append({"role": "system", "content": self.system_prompt})
        opening = self.user.opening(task) if self.user is not None else task.prompt
        msgs.append({"role": "user", "content": opening})
        return msgs

    def reference_for(self, task: Task) -> Any:
        return [step_message(s, i) for i, s in enumerate(self.reference_steps(task))]

    def reference_action(self) -> Any | None:
        ep = self.episode
        if ep is None or ep.done:
            return None
        steps = self.reference_steps(ep.task)
        return step_message(steps[ep.turn], ep.turn) if ep.turn < len(steps) else None

    async def asetup(self, episode: Episode) -> None:
        episode.data["state"] = self.make_state(episode)
        episode.data["calls"] = []
        episode.data["bad_calls"] = Counter()
        episode.data["user_state"] = {}
        episode.data["finished_by"] = None

    async def ateardown(self, episode: Episode) -> None:
        state = episode.data.pop("state", None)
        if state:
            self.close_state(state)

    async def arespond(self, episode: Episode, message: Message) -> Reply:
        calls = extract_calls(message, text_fallback=self.text_fallback, id_prefix=f"call_{episode.turn}")
        if not calls:
            return await self._text_reply(episode)
        out: list[Message] = []
        ended_by: str | None = None
        for i, call in enumerate(calls):
            if ended_by is not None:
                out.append(tool_result(call.id, f"Not executed: the episode ended with {ended_by}.", call.name))
                continue
            if i >= self.max_calls_per_turn:
                rec = self._record(episode, call, False, "too_many_calls",
                                   f"Error: too many tool calls in one turn (max {self.max_calls_per_turn}); "
                                   "this call was not executed.")
            else:
                rec = await self.aexecute(episode, call)
            out.append(tool_result(call.id, rec.result, call.name or None))
            if rec.ok and self.toolset[rec.name].terminal:
                ended_by = rec.name
        if ended_by is not None:
            episode.data["finished_by"] = ended_by
        return Reply(out, done=ended_by is not None)

    async def averify(self, episode: Episode) -> Verdict:
        if episode.data.get("finished_by") is None:
            episode.data["bad_calls"]["too_many_turns"] += 1
            episode.data["finished_by"] = "turn limit"
        verdict = await self.ascore(episode)
        verdict.details["bad_calls"] = {k: int(v) for k, v in episode.data["bad_calls"].items() if v}
        verdict.details["n_calls"] = len(episode.data["calls"])
        verdict.details["finished_by"] = episode.data["finished_by"]
        return verdict

    async def ascore(self, episode: Episode) -> Verdict:
        """Async scoring hook; default runs ``score`` (sync)."""
        return self.score(episode)

    # -- running calls ---------------------------------------------------------------------
    def _resolve(self, episode: Episode, call: ParsedCall) -> Tool | CallRecord:
        """The tool a call names, or the error record if it cannot be called at all."""
        if call.error is not None:
            return self._record(episode, call, False, "bad_json", f"Error: {call.error}")
        tool = self.toolset.get(call.name)
        if tool is None:
            names = ", ".join(self.toolset) or "none"
            return self._record(episode, call, False, "unknown_tool",
                                f"Error: unknown tool {call.name!r}. Available tools: {names}.")
        return tool

    def execute(self, episode: Episode, call: ParsedCall) -> CallRecord:
        """Run one parsed call to a sync tool and record it (never raises for the model's errors;
        an ``InfraError`` or missing injected state propagates, so the episode is masked)."""
        got = self._resolve(episode, call)
        if isinstance(got, CallRecord):
            return got
        state = episode.data["state"]
        try:
            with _savepoint(state):
                result = got.call(call.arguments, state)
                if inspect.isawaitable(result):
                    result.close()  # type: ignore[union-attr]
                    raise InfraError(f"tool {got.name} is async: run it with aexecute")
        except Exception as e:  # noqa: BLE001 - sorted into the model's errors and ours below
            return self._failed(episode, call, e)
        return self._record(episode, call, True, None, format_result(result))

    async def aexecute(self, episode: Episode, call: ParsedCall) -> CallRecord:
        """``execute`` for sync and ``async def`` tools alike (what ``arespond`` uses)."""
        got = self._resolve(episode, call)
        if isinstance(got, CallRecord):
            return got
        state = episode.data["state"]
        try:
            with _savepoint(state):
                result = got.call(call.arguments, state)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as e:  # noqa: BLE001 - sorted into the model's errors and ours below
            return self._failed(episode, call, e)
        return self._record(episode, call, True, None, format_result(result))

    def _failed(self, episode: Episode, call: ParsedCall, e: Exception) -> CallRecord:
        if isinstance(e, InfraError) or (isinstance(e, KeyError) and "injected state" in str(e)):
            raise e  # our failure, not the model's: the episode is masked
        if isinstance(e, ToolArgumentError):
            return self._record(episode, call, False, "invalid_args", f"Error: invalid arguments for {call.name}: {e}")
        if isinstance(e, ToolError):
            return self._record(episode, call, False, "tool_raised", f"Error: {e}")
        return self._record(episode, call, False, "tool_raised", f"Error: {call.name} failed: {type(e).__name__}: {e}")

    def run_reference(self, task: Task, state: dict[str, Any]) -> list[str]:
        """Run the task's reference calls directly on ``state`` (for the expected final state).

        Raises:
            RuntimeError: a reference call fails (a broken task, not the model's fault).
        """
        results = []
        for c in reference_calls(self.reference_steps(task)):
            tool = self.toolset[c["name"]]
            try:
                with _savepoint(state):
                    results.append(format_result(tool.call(c["arguments"], state)))
            except Exception as e:
                raise RuntimeError(f"reference call {c['name']}({c['arguments']}) failed: {e}") from e
        return results

    def _record(self, episode: Episode, call: ParsedCall, ok: bool, kind: str | None, result: str) -> CallRecord:
        rec = CallRecord(episode.turn, call.id, call.name, call.arguments, ok, result, kind)
        episode.data["calls"].append(rec)
        if kind:
            episode.data["bad_calls"][kind] += 1
        return rec

    async def _text_reply(self, episode: Episode) -> Reply:
        if self.user is None:
            episode.data["finished_by"] = "final reply"
            return Reply(done=True)
        turn = await self.user.areply(episode.task, episode.messages, episode.data["user_state"])
        if turn.done:
            episode.data["finished_by"] = "user"
        return Reply([{"role": "user", "content": turn.content}], done=turn.done)

    # -- scoring helpers -------------------------------------------------------------------
    @staticmethod
    def calls(episode: Episode) -> list[CallRecord]:
        return list(episode.data.get("calls", []))

    @staticmethod
    def ok_calls(episode: Episode) -> list[CallRecord]:
        return [c for c in episode.data.get("calls", []) if c.ok]

    @staticmethod
    def bad_calls(episode: Episode) -> dict[str, int]:
        return dict(episode.data.get("bad_calls", {}))

    @staticmethod
    def agent_text(episode: Episode) -> str:
        """Everything the agent said in text (tool-call blocks removed), joined by newlines."""
        texts = [strip_tool_calls(m["content"]) for m in episode.messages
                 if m.get("role") == "assistant" and isinstance(m.get("content"), str)]
        return "\n".join(t for t in texts if t)

    # -- fixtures --------------------------------------------------------------------------
    def fixtures(self) -> list[Fixture]:
        """Scripts (a list action = one action per turn): reference, do-nothing, malformed."""
        ref = self.reference_for(self.tasks.get(0))
        return [
            Fixture("reference script", ref, 1.0, kind="full"),
            Fixture("do nothing", ["I'm sorry, I can't help with that."], 0.0, kind="zero"),
            Fixture("not a message", [{"role": "user", "content": 42}], 0.0, kind="malformed"),
        ]


@contextmanager
def _savepoint(state: dict[str, Any]) -> Iterator[None]:
    """Run one call atomically on ``state["db"]`` if it is a sqlite3 connection."""
    db = state.get("db")
    if not isinstance(db, sqlite3.Connection):
        yield
        return
    db.execute("SAVEPOINT tool_call")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK TO tool_call")
        db.execute("RELEASE tool_call")
        raise
    db.execute("RELEASE tool_call")


def run_script(env: TaskEnv, actions: Sequence[Any], *, task_index: int = 0,
               seed: int | None = None) -> tuple[Verdict | None, dict[str, Any]]:
    """Play ``actions`` (one per turn) on ``env`` from a reset; returns (verdict, last info).

    The verdict is None if the episode did not end within the script.
    """
    env.reset(seed=seed, options={"task_index": task_index})
    info: dict[str, Any] = {}
    for action in actions:
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info.get("verdict"), info
    return None, info


def run_oracle(env: TaskEnv, *, task_index: int = 0, seed: int | None = None,
               max_steps: int = 100) -> tuple[Verdict | None, dict[str, Any]]:
    """Play ``env.reference_action()`` until the episode ends (the oracle policy, in-process).

    The verdict is None if the reference script runs out before the episode ends.
    """
    env.reset(seed=seed, options={"task_index": task_index})
    info: dict[str, Any] = {}
    for _ in range(max_steps):
        action = env.reference_action()
        if action is None:  # the script ran out before the episode ended
            return None, info
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info.get("verdict"), info
    return None, info
