"""Tool schemas from signatures and docstrings, argument validation, and tool-call parsing."""

import json
import sqlite3
from typing import Annotated, Literal

import pytest
from nemogym.envs.tools.parsing import extract_calls, parse_arguments, strip_tool_calls
from nemogym.envs.tools.schema import (
    INJECTED,
    ToolArgumentError,
    format_result,
    make_tool,
    parse_docstring,
    tool,
)
from pydantic import BaseModel


def book_room(room: str, hours: int, kind: Literal["meeting", "focus"] = "meeting",
              attendees: list[str] | None = None, db: sqlite3.Connection | None = None,
              user_id: str = "", now: str = "") -> dict:
    """Book a room for some hours.

    Longer description on a second line.

    Args:
        room: the room's name,
            for example "Orion".
        hours (int): how long.
        kind: what for.
        attendees: who comes.

    Returns:
        the booking.
    """
    return {"room": room, "hours": hours, "kind": kind, "by": user_id, "at": now, "db": db is not None}


def test_schema_from_signature_and_docstring():
    t = make_tool(book_room)
    fn = t.schema["function"]
    assert t.schema["type"] == "function" and fn["name"] == "book_room"
    assert fn["description"] == "Book a room for some hours. Longer description on a second line."
    params = fn["parameters"]
    assert params["type"] == "object" and params["required"] == ["room", "hours"]
    assert set(params["properties"]) == {"room", "hours", "kind", "attendees"}  # db/user_id/now hidden
    assert params["properties"]["room"]["description"] == 'the room\'s name, for example "Orion".'
    assert params["properties"]["hours"] == {"description": "how long.", "type": "integer"}
    assert params["properties"]["kind"]["enum"] == ["meeting", "focus"]
    assert '"title"' not in json.dumps(params)  # pydantic's titles are noise for the model
    assert t.injected == ("db", "user_id", "now")


def test_property_named_title_survives_cleanup():
    def post(title: str, body: str) -> str:
        """Post."""
        return title
    props = make_tool(post).schema["function"]["parameters"]["properties"]
    assert set(props) == {"title", "body"} and "title" not in props["title"]


def test_call_validates_and_injects():
    t = make_tool(book_room)
    out = t.call({"room": "Orion", "hours": "2"}, {"db": sqlite3.connect(":memory:"), "user_id": "U1", "now": "T"})
    assert out == {"room": "Orion", "hours": 2, "kind": "meeting", "by": "U1", "at": "T", "db": True}
    with pytest.raises(ToolArgumentError, match="hours: missing required argument"):
        t.call({"room": "Orion"}, {"db": None, "user_id": "", "now": ""})
    with pytest.raises(ToolArgumentError, match="colour: unknown argument"):
        t.call({"room": "Orion", "hours": 1, "colour": "red"}, {"db": None, "user_id": "", "now": ""})
    with pytest.raises(ToolArgumentError, match="kind"):
        t.call({"room": "Orion", "hours": 1, "kind": "party"}, {"db": None, "user_id": "", "now": ""})
    with pytest.raises(KeyError, match="injected state 'db'"):
        t.call({"room": "Orion", "hours": 1}, {})


def test_injected_marker_decorator_and_terminal():
    @tool(name="finish", terminal=True)
    def _f(summary: str, conn: Annotated[object, INJECTED]) -> str:
        """Finish."""
        return f"{summary}:{conn}"
    assert _f.terminal and _f.name == "finish" and _f.injected == ("conn",)
    assert _f.schema["function"]["parameters"]["properties"] == {"summary": {"type": "string"}}
    assert _f.call({"summary": "x"}, {"conn": 7}) == "x:7"


def test_missing_hint_and_varargs_rejected():
    def no_hint(x):
        """x."""
    def varargs(*a: int):
        """a."""
    with pytest.raises(TypeError, match="needs a type hint"):
        make_tool(no_hint)
    with pytest.raises(TypeError, match=r"\*args"):
        make_tool(varargs)


def test_pydantic_model_argument_and_result_format():
    class Item(BaseModel):
        sku: str
        qty: int = 1

    def order(items: list[Item]) -> Item:
        """Order items."""
        return items[0]
    t = make_tool(order)
    assert "$defs" in t.schema["function"]["parameters"]
    res = t.call({"items": [{"sku": "A1", "qty": 3}]})
    assert format_result(res) == '{"sku":"A1","qty":3}'
    assert format_result(None) == "OK" and format_result("x" * 50, max_chars=10).startswith("x" * 10)
    assert "[truncated" in format_result("x" * 50, max_chars=10)


def test_parse_docstring_sections():
    desc, args = parse_docstring("Do it.\n\nArgs:\n    a: first\n        more\n    b (int): second\nRaises:\n    X: y")
    assert desc == "Do it." and args == {"a": "first more", "b": "second"}


def test_extract_native_calls_string_and_dict_arguments():
    msg = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"id": "2", "type": "function", "function": {"name": "g", "arguments": {"y": 2}}},
        {"id": "3", "type": "function", "function": {"name": "h", "arguments": ""}},
        {"id": "4", "type": "function", "function": {"name": "k", "arguments": "[1]"}},
        {"id": "5", "type": "function", "function": {"arguments": "{}"}},
        "junk"]}
    calls = extract_calls(msg)
    assert [(c.id, c.name, c.arguments, c.error is None) for c in calls[:3]] == [
        ("1", "f", {"x": 1}, True), ("2", "g", {"y": 2}, True), ("3", "h", {}, True)]
    assert "JSON object" in calls[3].error and "no function name" in calls[4].error
    assert "must be an object" in calls[5].error


def test_extract_hermes_fallback():
    text = ('Let me check.\n<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>\n'
            '<tool_call>{"name": "g", "arguments": {bad}}</tool_call><tool_call>{"name": "h"')
    calls = extract_calls({"role": "assistant", "content": text}, id_prefix="t")
    assert [c.name for c in calls] == ["f", "g", "h"]
    assert calls[0].arguments == {"x": 1} and calls[0].source == "hermes" and calls[0].id == "t_0"
    assert calls[1].error and "not valid JSON" in calls[1].error and calls[2].error
    assert extract_calls({"role": "assistant", "content": text}, text_fallback=False) == []
    assert strip_tool_calls(text) == "Let me check."
    assert extract_calls({"role": "assistant", "content": "plain reply"}) == []


def test_parse_arguments_errors():
    assert parse_arguments('{"a": 1}') == ({"a": 1}, None)
    assert parse_arguments(None) == ({}, None)
    assert "not valid JSON" in parse_arguments("{a}")[1]
    assert "got int" in parse_arguments(5)[1]
