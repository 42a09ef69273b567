"""Chat messages in OpenAI format, and the normalisation of a model's action into one.

Messages are plain dicts (``role``, ``content``, optional ``tool_calls`` / ``tool_call_id``)
so that they serialise to JSONL and to any OpenAI-compatible server unchanged.
"""

from __future__ import annotations

from typing import Any

Message = dict[str, Any]
ToolSchema = dict[str, Any]

ROLES = ("system", "user", "assistant", "tool")

#: Assistant content longer than this is treated as malformed (a runaway generation).
MAX_ACTION_CHARS = 1_000_000


class MalformedAction(ValueError):
    """The model's action is not an assistant message: the model's fault, scored 0."""


def system(content: str) -> Message:
    return {"role": "system", "content": content}


def user(content: str) -> Message:
    return {"role": "user", "content": content}


def assistant(content: str | None, tool_calls: list[dict[str, Any]] | None = None) -> Message:
    msg: Message = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = tool_calls
    return msg


def tool_result(tool_call_id: str, content: str, name: str | None = None) -> Message:
    msg: Message = {"role": "tool", "tool_call_id": tool_call_id, "content": content}
    if name is not None:
        msg["name"] = name
    return msg


def to_assistant_message(action: Any, max_chars: int = MAX_ACTION_CHARS) -> Message:
    """Turn an env action (a string or an assistant message dict) into an assistant message.

    Raises:
        MalformedAction: the action is neither, has no content and no tool calls, or is huge.
    """
    if isinstance(action, str):
        msg: Message = {"role": "assistant", "content": action}
    elif isinstance(action, dict):
        role = action.get("role", "assistant")
        if role != "assistant":
            raise MalformedAction(f"action message has role {role!r}, expected 'assistant'")
        content = action.get("content")
        tool_calls = action.get("tool_calls")
        if content is not None and not isinstance(content, str):
            content = content_text(content)
        if content is None and not tool_calls:
            raise MalformedAction("assistant message has neither content nor tool_calls")
        if tool_calls is not None and not isinstance(tool_calls, list):
            raise MalformedAction("tool_calls must be a list")
        msg = {k: v for k, v in action.items() if v is not None}
        msg["role"] = "assistant"
        msg["content"] = content
    else:
        raise MalformedAction(
            f"action must be a string or an assistant message dict, got {type(action).__name__}"
        )
    if msg["content"] is not None and len(msg["content"]) > max_chars:
        raise MalformedAction(f"assistant content is {len(msg['content'])} chars (max {max_chars})")
    return msg


def content_text(content: Any) -> str:
    """The text of a message's content, which may be a string or OpenAI content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    raise MalformedAction(f"content must be a string or a list of parts, got {type(content).__name__}")


def is_message(obj: Any) -> bool:
    """True if ``obj`` looks like a chat message (a dict with a known role)."""
    return isinstance(obj, dict) and obj.get("role") in ROLES
