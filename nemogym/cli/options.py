"""Shared CLI option parsing."""

from __future__ import annotations

import json
from typing import Any

import typer


def parse_env_args(pairs: list[str] | None) -> dict[str, Any]:
    """``["difficulty=3", "data=x.jsonl"]`` -> ``{"difficulty": 3, "data": "x.jsonl"}``.

    Values are parsed as JSON when they parse (numbers, booleans, lists), else kept as text.
    """
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--env-arg takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
