"""`TextEnv`: the Gymnasium environment for language models, and `TaskEnv`, its task-driven form.

``reset(seed, options) -> (obs, info)`` with ``obs = {"messages": [...], "tools": [...]}``;
``step(action) -> (obs, reward, terminated, truncated, info)`` where ``action`` is an assistant
message dict or a plain string. The final step puts the episode's ``Verdict`` in
``info["verdict"]``. Async twins ``areset``/``astep`` exist for the rollout runner: implement
either pair and the base class derives the other.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from nemogym._async import run_sync
from nemogym.messages import MalformedAction, Message, ToolSchema, to_assistant_message
from nemogym.spaces import AssistantActionSpace, ChatObservationSpace
from nemogym.tasks import Task, TaskSource
from nemogym.verdict import Verdict

Observation = dict[str, list[dict[str, Any]]]
StepResult = tuple[Observation, float, bool, bool, dict[str, Any]]


class TextEnv(gymnasium.Env[Observation, Any]):
    """A text environment: chat observations in, assistant messages out.

    Subclasses implement ``reset``/``step`` or ``areset``/``astep``. A subclass whose sync
    ``step`` blocks (I/O, subprocesses) sets ``blocking_step = True`` so the derived ``astep``
    runs it in a worker thread instead of on the event loop.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}
    observation_space = ChatObservationSpace()
    action_space = AssistantActionSpace()
    blocking_step: bool = False

    def __init__(self, render_mode: str | None = None):
        self.render_mode = render_mode
        self._last_obs: Observation | None = None

    # -- sync API, derived from the async one when only that is implemented -------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Seed ``np_random``; run ``areset`` when the subclass implements that instead."""
        super().reset(seed=seed)
        if type(self).areset is not TextEnv.areset:
            return run_sync(self.areset(seed=seed, options=options))
        if type(self).reset is TextEnv.reset:
            raise NotImplementedError(f"{type(self).__name__} implements neither reset nor areset")
        return None  # reached through super().reset(seed=seed) from a subclass's own reset

    def step(self, action: Any) -> StepResult:
        if type(self).astep is not TextEnv.astep:
            return run_sync(self.astep(action))
        raise NotImplementedError(f"{type(self).__name__} implements neither step nor astep")

    # -- async API, derived from the sync one when only that is implemented -------------
    async def areset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if type(self).reset is TextEnv.reset:
            raise NotImplementedError(f"{type(self).__name__} implements neither reset nor areset")
        return self.reset(seed=seed, options=options)

    async def astep(self, action: Any) -> StepResult:
        if type(self).step is TextEnv.step:
            raise NotImplementedError(f"{type(self).__name__} implements neither step nor astep")
        if self.blocking_step:
            return await asyncio.to_thread(self.step, action)
        return self.step(action)

    def render(self) -> str | None:
        if self._last_obs is None:
            return None
        return "\n".join(f"[{m['role']}] {m.get('content') or m.get('tool_calls')}"
                         for m in self._last_obs["messages"])

    # -- what the oracle policy and the checker use ---------------------------------------
    def reference_action(self) -> Any | None:
        """The next action of the current task's reference solution, or None if there is none."""
        return None


@dataclass
class Fixture:
    """A labelled action for ``nemogym check``: ``action`` on task ``task_index`` scores ``reward``."""

    name: str
    action: Any
    reward: float
    task_index: int = 0
    kind: str = "full"  # full | zero | malformed | violation


@dataclass
class Episode:
    """The state of the episode in progress, available to env hooks."""

    task: Task
    task_index: int
    seed: int | None
    messages: list[Message]
    tools: list[ToolSchema]
    turn: int = 0
    done: bool = False
    rng: random.Random = field(default_factory=random.Random)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    """What the env says after an assistant turn: new messages, whether it is over, the verdict."""

    messages: list[Message] = field(default_factory=list)
    done: bool = False
    verdict: Verdict | None = None


class TaskEnv(TextEnv):
    """A TextEnv over a ``TaskSource``: reset picks a task, ``averify`` scores the answer.

    Single-turn by default (the first assistant message ends the episode). Multi-turn envs
    override ``arespond`` to return the env's reply and whether the episode is over, and set
    ``max_turns``. Errors in a hook are infrastructure failures (masked); a malformed action
    is the model's (reward 0 with the reason).
    """

    system_prompt: str | None = None
    #: A verifier that takes longer than this is masked (None: no bound).
    verify_timeout_s: float | None = 120.0

    def __init__(self, tasks: TaskSource, *, system_prompt: str | None = None,
                 max_turns: int = 1, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.tasks = tasks
        if system_prompt is not None:
            self.system_prompt = system_prompt
        self.max_turns = max_turns
        self.episode: Episode | None = None
        self._torn_down: Episode | None = None  # the last episode whose ateardown ran

    # -- hooks -------------------------------------------------------------------------
    def initial_messages(self, task: Task) -> list[Message]:
        msgs: list[Message] = []
        if self.system_prompt:
            msgs.append({"role": "system", "content": self.system_prompt})
        msgs.append({"role": "user", "content": task.prompt})
        return msgs

    def tools_for(self, task: Task) -> list[ToolSchema]:
        return []

    async def asetup(self, episode: Episode) -> None:
        """Prepare per-episode state (a database, a sandbox session) in ``episode.data``."""

    async def averify(self, episode: Episode) -> Verdict:
        """Score the finished episode (default: ``verify`` on the last assistant text).

        The sync ``verify`` runs in a worker thread, so a slow or hanging one neither blocks
        the event loop nor escapes ``verify_timeout_s``.
        """
        return await asyncio.to_thread(self.verify, episode.task, _last_assistant_text(episode.messages))

    def verify(self, task: Task, response: str) -> Verdict:
        raise NotImplementedError

    async def ateardown(self, episode: Episode) -> None:
        """Release per-episode resources; called once when the episode ends."""

    async def arespond(self, episode: Episode, message: Message) -> Reply:
        """React to one assistant message. Default: single-turn, verify and end."""
        return Reply(done=True)

    def reference_for(self, task: Task) -> Any:
        """The full reference action for ``task`` (single-turn envs: the answer to send)."""
        return task.reference if task.reference is not None else task.answer

    def fixtures(self) -> list[Fixture]:
        """Labelled cases ``nemogym check`` scores: every env ships full, zero and malformed."""
        ref = self.reference_for(self.tasks.get(0))
        return [
            Fixture("reference", ref, 1.0, kind="full") if ref is not None else None,
            Fixture("empty", "", 0.0, kind="zero"),
            Fixture("not-a-message", {"role": "user", "content": 42}, 0.0, kind="malformed"),
        ][0 if ref is not None else 1:]

    # -- the Gymnasium API -------------------------------------------------------------
    def task_index_for(self, seed: int | None, options: dict[str, Any] | None) -> int:
        if options and "task_index" in options:
            index = int(options["task_index"])
            if self.tasks.size is not None and not 0 <= index < self.tasks.size:
                raise IndexError(f"task_index {index} out of range (0..{self.tasks.size - 1})")
            return index
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        return self.tasks.index_for_seed(seed)

    async def areset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if self.episode is not None:
            # A reset in the middle of an episode (a TimeLimit wrapper, a runner's max_turns, a
            # deadline that cut the verifier): release that episode's resources first.
            self.episode.done = True
            try:
                await self._ateardown_once(self.episode)
            except Exception:  # noqa: BLE001, S110 - the old episode is gone either way
                pass
        if seed is not None or not hasattr(self, "_np_random") or self._np_random is None:
            gymnasium.Env.reset(self, seed=seed)
        index = self.task_index_for(seed, options)
        task = self.tasks.get(index)
        self.episode = Episode(
            task=task, task_index=index, seed=seed,
            messages=self.initial_messages(task), tools=self.tools_for(task),
            rng=random.Random(seed if seed is not None else index),
        )
        await self.asetup(self.episode)
        obs = self._observation()
        info = {"task_index": index, "task_id": task.id, "subset": task.subset}
        return obs, info

    async def astep(self, action: Any) -> StepResult:
        ep = self.episode
        if ep is None or ep.done:
            raise RuntimeError("step() called before reset() or after the episode ended")
        ep.turn += 1
        try:
            message = to_assistant_message(action)
        except MalformedAction as e:
            bad = action if isinstance(action, str) else repr(action)[:2000]
            ep.messages.append({"role": "assistant", "content": bad})
            details: dict[str, Any] = {"malformed": True}
            if not isinstance(action, str) and _is_json(action):
                # The stored message holds only the action's repr; keep the action itself so that
                # replay and reverify send it again (and score it malformed again, not as text).
                details["malformed_action"] = action
            return await self._afinish(Verdict.wrong(f"malformed action: {e}", **details), False)
        ep.messages.append(message)
        try:
            reply = await self.arespond(ep, message)
        except Exception as e:  # noqa: BLE001 - an env bug masks the episode, never crashes the run
            return await self._afinish(
                Verdict.infra_failure(f"env raised: {type(e).__name__}: {e}"), False)
        problem = _reply_problem(reply)
        if problem is not None:
            return await self._afinish(Verdict.infra_failure(f"env returned {problem}"), False)
        ep.messages.extend(reply.messages)
        if reply.done or reply.verdict is not None:
            return await self._afinish(reply.verdict, False)
        if ep.turn >= self.max_turns:
            return await self._afinish(None, True)
        return self._observation(), 0.0, False, False, {"turn": ep.turn}

    def reference_action(self) -> Any | None:
        if self.episode is None:
            return None
        ref = self.reference_for(self.episode.task)
        if isinstance(ref, list) and self.max_turns > 1:  # a multi-turn script: one per turn
            return ref[self.episode.turn] if self.episode.turn < len(ref) else None
        return ref

    async def aclose(self) -> None:
        """Release the current episode (if it was cut short before its teardown), then ``close``."""
        if self.episode is not None:
            self.episode.done = True
            try:
                await self._ateardown_once(self.episode)
            except Exception:  # noqa: BLE001, S110 - closing is best effort
                pass
        self.close()

    # -- internals ---------------------------------------------------------------------
    async def _ateardown_once(self, ep: Episode) -> None:
        if getattr(self, "_torn_down", None) is ep:
            return
        self._torn_down = ep
        await self.ateardown(ep)

    async def _safe_verify(self, ep: Episode) -> Verdict:
        """Run ``averify`` under ``verify_timeout_s``; a crash or a hang is masked, never raised."""
        try:
            verdict = await asyncio.wait_for(self.averify(ep), self.verify_timeout_s)
        except TimeoutError:
            return Verdict.infra_failure(f"verifier timed out after {self.verify_timeout_s}s")
        except Exception as e:  # noqa: BLE001
            return Verdict.infra_failure(f"verifier raised: {type(e).__name__}: {e}")
        if not isinstance(verdict, Verdict):
            return Verdict.infra_failure(f"verifier returned {type(verdict).__name__}, not Verdict")
        if not math.isfinite(verdict.reward):
            return Verdict.infra_failure(f"verifier returned a non-finite reward ({verdict.reward})",
                                         verdict=verdict.model_dump(mode="json"))
        return verdict

    def _observation(self) -> Observation:
        assert self.episode is not None
        # Per-message copies keep the env's history safe from callers that edit the observation;
        # a full deepcopy costs more than the rest of a single-turn episode.
        obs = {"messages": [dict(m) for m in self.episode.messages], "tools": list(self.episode.tools)}
        self._last_obs = obs
        return obs

    async def _afinish(self, verdict: Verdict | None, truncated: bool) -> StepResult:
        ep = self.episode
        assert ep is not None
        ep.done = True
        if verdict is None:
            verdict = await self._safe_verify(ep)
        try:
            await self._ateardown_once(ep)
        except Exception as e:  # noqa: BLE001
            verdict.details.setdefault("teardown_error", f"{type(e).__name__}: {e}")
        info = {"verdict": verdict, "turn": ep.turn}
        return self._observation(), float(verdict.reward), not truncated, truncated, info


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


def _reply_problem(reply: Any) -> str | None:
    """What is wrong with an ``arespond`` result, or None if it is a well-formed ``Reply``."""
    if not isinstance(reply, Reply):
        return f"{type(reply).__name__} from arespond, not a Reply"
    if not isinstance(reply.messages, list) or not all(isinstance(m, dict) for m in reply.messages):
        return "a Reply whose messages are not a list of message dicts"
    if reply.verdict is not None and not isinstance(reply.verdict, Verdict):
        return f"a Reply whose verdict is a {type(reply.verdict).__name__}, not a Verdict"
    return None


def _last_assistant_text(messages: list[Message]) -> str:
    for m in reversed(messages):
        if m.get("role") == "assistant":
            c = m.get("content")
            return c if isinstance(c, str) else ""
    return ""
