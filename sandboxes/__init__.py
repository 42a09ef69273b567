"""Sandboxes for untrusted code: ``LocalSandbox`` (bubblewrap), ``WarmPool``, ``DockerSandbox``.

``default_sandbox()`` returns the best one available here. Nothing heavy is imported at import
time (the docker SDK only when a ``DockerSandbox`` is built).
"""

from __future__ import annotations

from .base import ExecResult, Isolation, Limits, Sandbox, SandboxError
from .local import LocalSandbox

__all__ = ["ExecResult", "Isolation", "Limits", "Sandbox", "SandboxError", "LocalSandbox"]
