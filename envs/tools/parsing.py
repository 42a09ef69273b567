"""Reading tool calls out of an assistant message: native ``tool_calls`` first, Hermes text second.

Native: ``message["tool_calls"] = [{"id", "type": "function", "function": {"name", "arguments"}}]``
where ``arguments`` is a JSON string (a dict is accepted too). Fallback, for servers without
native tool calling: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks in the
content. A call whose arguments are not a JSON object comes back with ``error`` set, never raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nemogym.messages import Message

_HERMES = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)


@dataclass
class ParsedCall:
    """One requested call. ``error`` says why it is unusable (bad JSON, no name), else None."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str = ""
    error: str | None = None
    source: str = "native"  # native | hermes

    def as_dict(self) -> dict[str, Any]:
        """``{"name", "arguments"}``: the form the call matchers in ``nemogym.verifiers.tools`` take."""
        return {"name": self.name, "arguments": self.arguments}


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str | None]:
    """(arguments, error): a JSON-object string or a dict, else an explanation of what is wrong."""
    if raw is None or raw == "":
        return {}, None
    if isinstance(raw, dict):
        return raw, None
    if not isinstance(raw, str):
        return {}, f"arguments must be a JSON object string, got {type(raw).__name__}"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        return {}, f"arguments are not valid JSON ({e.msg} at char {e.pos}): {raw[:200]!r}"
    except RecursionError:  # nested deeper than the parser can go: the model's output, not ours
        return {}, f"arguments are not valid JSON (nested too deeply): {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def extract_calls(message: Message, *, text_fallback: bool = True, id_prefix: str = "call") -> list[ParsedCall]:
    """Every tool call the assistant ``message`` requests, in order (empty: a plain reply)."""
    native = message.get("tool_calls")
    if native:
        return [_native(c, f"{id_prefix}_{i}") for i, c in enumerate(native)]
    content = message.get("content")
    if text_fallback and isinstance(content, str) and "<tool_call>" in content:
        return [_hermes(block, f"{id_prefix}_{i}") for i, block in enumerate(_HERMES.findall(content))]
    return []


def strip_tool_calls(text: str) -> str:
    """The content without its ``<tool_call>`` blocks (what the user would see)."""
    return _HERMES.sub("", text).strip()


def _native(call: Any, default_id: str) -> ParsedCall:
    if not isinstance(call, dict):
        return ParsedCall(default_id, "", error=f"a tool call must be an object, got {type(call).__name__}")
    fn = call.get("function") if isinstance(call.get("function"), dict) else call
    call_id = str(call.get("id") or default_id)
    name = fn.get("name")
    raw = fn.get("arguments", fn.get("parameters"))
    if not isinstance(name, str) or not name:
        return ParsedCall(call_id, "", raw_arguments=str(raw), error="tool call has no function name")
    args, error = parse_arguments(raw)
    return ParsedCall(call_id, name, args, raw if isinstance(raw, str) else json.dumps(raw, default=str),
                      error, "native")


def _hermes(block: str, call_id: str) -> ParsedCall:
    block = block.strip()
    try:
        obj = json.loads(block)
    except json.JSONDecodeError as e:
        return ParsedCall(call_id, _guess_name(block), raw_arguments=block[:2000], source="hermes",
                          error=f"<tool_call> block is not valid JSON ({e.msg} at char {e.pos}): {block[:200]!r}")
    except RecursionError:
        return ParsedCall(call_id, _guess_name(block), raw_arguments=block[:2000], source="hermes",
                          error=f"<tool_call> block is not valid JSON (nested too deeply): {block[:200]!r}")
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
        return ParsedCall(call_id, "", raw_arguments=block[:2000], source="hermes",
                          error='<tool_call> block must be {"name": ..., "arguments": {...}}')
    raw = obj.get("arguments", obj.get("parameters"))
    args, error = parse_arguments(raw)
    return ParsedCall(call_id, obj["name"], args, json.dumps(raw, default=str), error, "hermes")


def _guess_name(block: str) -> str:
    m = re.search(r'"name"\s*:\s*"([^"]+)"', block)
    return m.group(1) if m else ""


def native_call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    """An OpenAI ``tool_calls`` entry (arguments serialised to a JSON string)."""
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}
