"""Tools as plain Python callables: OpenAI function schemas from type hints and docstrings.

``make_tool(fn)`` reads ``fn``'s signature (every model-visible parameter needs a type hint)
and its Google-style docstring (first paragraph = description, ``Args:`` = parameter
descriptions) and builds a pydantic model for the arguments (``extra="forbid"``). Parameters
named in ``injected`` (by default ``db``, ``user_id``, ``now``), or annotated
``Annotated[T, INJECTED]``, are state supplied by the env at call time (looked up by name in
the episode's state dict) and are hidden from the schema.

``Tool.call(arguments, state)`` validates the arguments, injects the state and runs the
function; a ``ToolError`` raised inside is the model-facing error message of a refused or
failed action (e.g. "ticket not found").
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

#: Parameter names the env fills in at call time; never shown to the model. (Kept short on
#: purpose: a tool may well want a model-visible argument called ``state`` or ``status``.)
DEFAULT_INJECTED: frozenset[str] = frozenset({"db", "user_id", "now"})


class _Injected:
    """Marker: ``def f(x: int, conn: Annotated[Conn, INJECTED])`` hides ``conn``."""

    def __repr__(self) -> str:
        return "INJECTED"


INJECTED = _Injected()
#: A tool result longer than this is cut (with a note) before it reaches the model.
MAX_RESULT_CHARS = 20_000


class ToolError(Exception):
    """Raised by a tool to tell the model its call failed or was refused (message shown as-is)."""


class InfraError(RuntimeError):
    """Raised by a tool when the infrastructure behind it failed: the episode is masked."""


class ToolArgumentError(ValueError):
    """The model's arguments do not fit the tool's signature; ``str(e)`` is model-readable."""


@dataclass
class Tool:
    """A callable with its OpenAI schema, its argument model and its hidden state parameters."""

    name: str
    fn: Callable[..., Any]
    description: str
    args_model: type[BaseModel]
    injected: tuple[str, ...] = ()
    terminal: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry: ``{"type": "function", "function": {...}}``."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.description, "parameters": self.parameters}}

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validated keyword arguments (model-visible ones only).

        Raises:
            ToolArgumentError: missing, unknown or ill-typed arguments, explained per field.
        """
        if not isinstance(arguments, Mapping):
            raise ToolArgumentError(f"arguments must be a JSON object, got {type(arguments).__name__}")
        try:
            parsed = self.args_model.model_validate(dict(arguments))
        except ValidationError as e:
            raise ToolArgumentError(_explain(e)) from None
        return {k: getattr(parsed, k) for k in type(parsed).model_fields}

    def call(self, arguments: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> Any:
        """Validate ``arguments``, inject the hidden ``state`` parameters, run the function."""
        kwargs = self.validate(arguments)
        state = state or {}
        for name in self.injected:
            if name not in state:
                raise KeyError(f"tool {self.name!r} needs injected state {name!r}, which the env did not provide")
            kwargs[name] = state[name]
        return self.fn(**kwargs)


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None,
         terminal: bool = False, injected: Collection[str] | None = None) -> Any:
    """Decorator form of ``make_tool``: ``@tool`` or ``@tool(name=..., terminal=True)``."""
    def wrap(f: Callable[..., Any]) -> Tool:
        return make_tool(f, name=name, terminal=terminal, injected=injected)
    return wrap(fn) if fn is not None else wrap


def make_tool(fn: Callable[..., Any] | Tool, *, name: str | None = None,
              description: str | None = None, terminal: bool = False,
              injected: Collection[str] | None = None) -> Tool:
    """Build a ``Tool`` from a typed, documented callable (a ``Tool`` is returned unchanged).

    Raises:
        TypeError: a model-visible parameter has no type hint, or the function takes ``*args``.
    """
    if isinstance(fn, Tool):
        return fn
    tool_name = name or fn.__name__
    hidden = frozenset(DEFAULT_INJECTED if injected is None else injected)
    summary, arg_docs = parse_docstring(inspect.getdoc(fn) or "")
    hints = typing.get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    inject: list[str] = []
    for pname, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"tool {tool_name!r}: *args/**kwargs are not supported")
        if pname in hidden or _is_injected(hints.get(pname)):
            inject.append(pname)
            continue
        if pname not in hints:
            raise TypeError(f"tool {tool_name!r}: parameter {pname!r} needs a type hint")
        default = ... if p.default is p.empty else p.default
        fields[pname] = (hints[pname], Field(default, description=arg_docs.get(pname)))
    model = create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    params = _clean_schema(model.model_json_schema())
    params.setdefault("properties", {})
    params.setdefault("required", [])
    return Tool(name=tool_name, fn=fn, description=description or summary or tool_name,
                args_model=model, injected=tuple(inject), terminal=terminal, parameters=params)


def _is_injected(hint: Any) -> bool:
    return any(m is INJECTED for m in getattr(hint, "__metadata__", ()))


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Raises|Yields|Examples?|Notes?):\s*$")
_ARG_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(description, {param: description}) from a Google-style docstring.

    The description is everything before the first section header, joined into one paragraph;
    an argument's description may continue on more deeply indented lines.
    """
    summary_lines: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    arg_indent: int | None = None
    for raw in doc.splitlines():
        line = raw.strip()
        if _SECTION.match(line):
            section, current, arg_indent = _SECTION.match(line).group(1), None, None
            continue
        if section is None:
            summary_lines.append(line)
            continue
        if section not in ("Args", "Arguments", "Parameters") or not line:
            continue
        indent = len(raw) - len(raw.lstrip())
        m = _ARG_LINE.match(line)
        if m and (arg_indent is None or indent <= arg_indent):
            arg_indent = indent
            current = m.group(1).lstrip("*")
            args[current] = m.group(2).strip()
        elif current is not None:
            args[current] = f"{args[current]} {line}".strip()
    summary = " ".join(" ".join(summary_lines).split())
    return summary, args


def _clean_schema(node: Any, in_properties: bool = False) -> Any:
    """Drop pydantic's ``title`` annotations (but not a property that is named ``title``)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "title" and not in_properties and isinstance(v, str):
                continue
            out[k] = _clean_schema(v, in_properties=k in ("properties", "$defs"))
        return out
    if isinstance(node, list):
        return [_clean_schema(v) for v in node]
    return node


def _explain(e: ValidationError) -> str:
    parts = []
    for err in e.errors(include_url=False):
        loc = ".".join(str(x) for x in err.get("loc", ())) or "(arguments)"
        kind = err.get("type", "")
        if kind == "missing":
            parts.append(f"{loc}: missing required argument")
        elif kind == "extra_forbidden":
            parts.append(f"{loc}: unknown argument")
        else:
            parts.append(f"{loc}: {err.get('msg', kind)} (got {json.dumps(err.get('input'), default=str)[:80]})")
    return "; ".join(parts)


def format_result(result: Any, max_chars: int = MAX_RESULT_CHARS) -> str:
    """A tool's return value as the text of a ``tool`` message (JSON unless already a string)."""
    if result is None:
        text = "OK"
    elif isinstance(result, str):
        text = result
    elif isinstance(result, BaseModel):
        text = result.model_dump_json()
    else:
        text = json.dumps(result, default=str, ensure_ascii=False)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n... [truncated: result was {len(text)} chars]"
    return text
