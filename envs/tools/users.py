"""User simulators: who answers the agent's text replies in a multi-turn tool episode.

A user holds the task's facts and reveals them only when asked. ``ScriptedUser`` is
deterministic (tests, reproducible evals); ``LLMUser`` role-plays the task through any
``nemogym.policies.base.Policy``. Both are stateless across episodes: per-episode memory lives
in the ``state`` dict the env passes in, so one user object serves concurrent episodes.

Task metadata they read (all optional):
    ``user_facts``: ``[{"key": "ticket number", "value": "INC0001042",
    "keywords": ["ticket", "number"], "say": "It's INC0001042."}, ...]``
    ``scenario``: what the user wants, in the user's words (the LLM user's instructions).
    ``user_closing``: what the scripted user says when it ends the conversation.
    ``user_unknown``: what it says to a question about something it does not hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from nemogym.envs.tools.parsing import strip_tool_calls

from nemogym.messages import Message
from nemogym.tasks import Task

STOP = "###STOP###"


@dataclass
class UserTurn:
    """The user's next message and whether the user ends the conversation with it."""

    content: str
    done: bool = False


@runtime_checkable
class UserSimulator(Protocol):
    """``opening(task)`` is the first user message; ``areply`` answers each agent text reply."""

    def opening(self, task: Task) -> str: ...

    async def areply(self, task: Task, conversation: list[Message], state: dict[str, Any]) -> UserTurn: ...


def facts_of(task: Task) -> list[dict[str, Any]]:
    """The task's user-held facts (``task.metadata["user_facts"]``), possibly empty."""
    return list(task.metadata.get("user_facts") or [])


class ScriptedUser:
    """Deterministic user: answers a question only with the facts whose keywords it mentions.

    Rules, on each agent text reply: facts whose keywords (case-insensitive, whole words)
    appear are "asked". If an asked fact is new, or the reply is a question that asks a known
    fact again, the user states those facts. A question about something the user does not
    hold gets ``metadata["user_unknown"]`` ("I'm not sure, ...") and the conversation goes
    on, unless it is a closing question ("anything else?"). A statement ends the episode with
    ``metadata["user_closing"]``, and so does reaching ``max_replies`` answers.
    """

    def __init__(self, max_replies: int = 10):
        self.max_replies = max_replies

    def opening(self, task: Task) -> str:
        return task.prompt

    async def areply(self, task: Task, conversation: list[Message], state: dict[str, Any]) -> UserTurn:
        return self.reply(task, _last_agent_text(conversation), state)

    def reply(self, task: Task, agent_text: str, state: dict[str, Any]) -> UserTurn:
        """The sync core of ``areply``: react to the agent's latest text."""
        revealed: set[str] = state.setdefault("revealed", set())
        replies = state.get("replies", 0)
        asked = [f for f in facts_of(task) if _mentions(agent_text, f.get("keywords") or [f["key"]])]
        new = [f for f in asked if f["key"] not in revealed]
        is_question = "?" in agent_text
        closing = task.metadata.get("user_closing") or "Thanks, that's all I needed."
        if replies >= self.max_replies:
            return UserTurn(closing, done=True)
        if new or (is_question and asked):
            state["replies"] = replies + 1
            revealed.update(f["key"] for f in asked)
            return UserTurn(" ".join(_say(f) for f in asked))
        if is_question and not _CLOSING.search(agent_text):
            state["replies"] = replies + 1
            return UserTurn(task.metadata.get("user_unknown") or "I'm not sure about that; I've told you what I know.")
        return UserTurn(closing, done=True)


_CLOSING = re.compile(r"\b(anything|something) (else|more)\b|\bany (other|more|further)\b|\bfurther (help|questions?)\b",
                      re.IGNORECASE)


def _say(fact: dict[str, Any]) -> str:
    return str(fact.get("say") or f"My {fact['key']} is {fact['value']}.")


def _mentions(text: str, keywords: list[str]) -> bool:
    low = text.lower()
    return any(re.search(rf"\b{re.escape(k.lower())}\b", low) for k in keywords)


def _last_agent_text(conversation: list[Message]) -> str:
    """The text of the agent's latest message (the one the user answers), tool-call blocks removed."""
    for m in reversed(conversation):
        if m.get("role") == "assistant":
            text = m.get("content")
            return strip_tool_calls(text) if isinstance(text, str) else ""
    return ""


USER_INSTRUCTIONS = """You are role-playing a user who is talking to a support agent.
Your goal: {scenario}
Facts you know (share one only when the agent asks for it; never volunteer them all at once):
{facts}
Write only what the user says, in one or two short sentences. Do not invent facts you were not
given; if asked for something you do not know, say so. When your goal is met, or the agent
cannot help further, end the conversation by writing {stop} on its own."""


class LLMUser:
    """A user played by any ``Policy``: the conversation is shown with roles swapped.

    A ``PolicyError`` from the policy propagates, so the env masks the episode (the user
    simulator failing says nothing about the agent).
    """

    def __init__(self, policy: Any, *, sampling: Any = None, instructions: str = USER_INSTRUCTIONS,
                 max_replies: int = 15):
        self.policy = policy
        self.sampling = sampling
        self.instructions = instructions
        self.max_replies = max_replies

    def opening(self, task: Task) -> str:
        return task.prompt

    def user_messages(self, task: Task, conversation: list[Message]) -> list[Message]:
        """The user model's prompt: its instructions, then the dialogue with roles swapped."""
        facts = "\n".join(f"- {f['key']}: {f['value']}" for f in facts_of(task)) or "- (none)"
        scenario = task.metadata.get("scenario") or task.prompt
        msgs: list[Message] = [{"role": "system", "content": self.instructions.format(
            scenario=scenario, facts=facts, stop=STOP)}]
        for m in conversation:
            text = m.get("content")
            if m.get("role") == "user" and isinstance(text, str):
                msgs.append({"role": "assistant", "content": text})
            elif m.get("role") == "assistant" and isinstance(text, str) and strip_tool_calls(text):
                msgs.append({"role": "user", "content": strip_tool_calls(text)})
        return msgs

    async def areply(self, task: Task, conversation: list[Message], state: dict[str, Any]) -> UserTurn:
        state["replies"] = state.get("replies", 0) + 1
        if state["replies"] > self.max_replies:
            return UserTurn("I have to go now. " + STOP, done=True)
        resp = await self.policy(self.user_messages(task, conversation), None, sampling=self.sampling)
        text = resp.message.get("content") or ""
        if not isinstance(text, str):
            text = str(text)
        done = STOP in text
        return UserTurn(text.replace(STOP, "").strip() or "Goodbye.", done=done)
