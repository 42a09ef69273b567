"""Sandboxes for untrusted code: ``LocalSandbox`` (bubblewrap), ``WarmPool``, ``DockerSandbox``.

``default_sandbox()`` returns the best one available here. Nothing heavy is imported at import
time (the docker SDK only when a ``DockerSandbox`` is used).
"""

from __future__ import annotations

import logging
from typing import Any

from .base import ExecResult, Isolation, Limits, Sandbox, SandboxError
from .docker import DockerSandbox, docker_available
from .local import LocalSandbox
from .pool import WarmPool

__all__ = ["DockerSandbox", "ExecResult", "Isolation", "Limits", "LocalSandbox", "Sandbox",
           "SandboxError", "WarmPool", "default_sandbox", "docker_available", "isolation_available"]

log = logging.getLogger("nemogym.sandboxes")


def isolation_available() -> bool:
    """True when bubblewrap works here (so ``LocalSandbox`` and ``WarmPool`` give full isolation)."""
    from . import _bwrap

    return _bwrap.probe() is not None


def default_sandbox(*, warm: bool = True, allow_unsandboxed: bool = False,
                    **kwargs: Any) -> Sandbox:
    """The best sandbox available here: a ``WarmPool`` (``warm=True``) or ``LocalSandbox``.

    Without bubblewrap this raises ``SandboxError`` unless ``allow_unsandboxed=True``, which gives
    a best-effort ``LocalSandbox`` (reported as ``isolation="best-effort"``). ``kwargs`` go to the
    constructor (``limits=``, ``python=``, ...). The pool starts its workers on first use.
    """
    if isolation_available():
        if warm:
            return WarmPool(**kwargs)
        return LocalSandbox(**kwargs)
    kwargs.pop("size", None)
    return LocalSandbox(allow_unsandboxed=allow_unsandboxed, **kwargs)
