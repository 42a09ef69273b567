"""Serving: an OpenAI-compatible stub server (``nemogym.serve.openai_stub``) for tests and demos.

Nothing is imported here at package import time, so ``import nemogym.serve`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["StubServer", "start_stub_server"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from nemogym.serve import openai_stub

        return getattr(openai_stub, name)
    raise AttributeError(f"module 'nemogym.serve' has no attribute {name!r}")
