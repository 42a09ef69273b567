"""Policies: the Policy protocol, the OpenAI-compatible HTTP policy and built-in ones.

``make_policy(spec)`` builds one from a string (``oracle``, ``random``, ``replay:PATH``, an
http(s) base URL). The HTTP and built-in policies are imported lazily (aiohttp is not loaded
until first use).
"""

from typing import Any

from nemogym.policies.base import (
    Policy,
    PolicyContext,
    PolicyError,
    PolicyResponse,
    Sampling,
)

__all__ = [
    "OpenAIHTTPPolicy", "OraclePolicy", "Policy", "PolicyContext", "PolicyError",
    "PolicyResponse", "RandomPolicy", "ReplayPolicy", "Sampling", "make_policy",
]

_LAZY = {
    "OpenAIHTTPPolicy": "nemogym.policies.openai_http",
    "OraclePolicy": "nemogym.policies.builtin",
    "RandomPolicy": "nemogym.policies.builtin",
    "ReplayPolicy": "nemogym.policies.builtin",
    "make_policy": "nemogym.policies.factory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nemogym.policies' has no attribute {name!r}")
