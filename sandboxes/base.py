"""The sandbox contract: run untrusted programs with limits and report what happened.

``Sandbox.run(argv, *, files, stdin, limits) -> ExecResult`` and ``run_python(code, ...)``,
with async twins ``arun`` / ``arun_python``. The sandbox knows nothing of rewards: verifiers
turn an ``ExecResult`` into a ``Verdict``. ``SandboxError`` means the sandbox itself failed
(could not start, killed by the host): an infrastructure failure, never the program's fault.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Isolation = Literal["bubblewrap", "docker", "best-effort", "none"]


class Limits(BaseModel):
    """Per-run resource bounds."""

    model_config = ConfigDict(frozen=True)

    timeout_s: float = Field(10.0, gt=0, le=1e6)
    """Wall clock, at most 1e6 s (finite: the clocks and rlimits it feeds overflow otherwise)."""
    memory_mb: int = Field(1024, ge=1)
    max_output_bytes: int = Field(1 << 20, ge=0)
    """stdout + stderr together; the program is killed once it writes more."""
    max_processes: int = Field(64, ge=1)
    max_file_bytes: int = Field(16 << 20, ge=0)
    max_open_files: int = Field(256, ge=4)


class ExecResult(BaseModel):
    """What one run did; ``isolation`` is the level that was actually in force."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    isolation: Isolation = "none"
    leftover_processes: bool = False
    """Processes of the program were still alive after it exited (they were all killed)."""
    killed_reason: str | None = None
    """Why the sandbox killed the program: "timeout", "output", "memory" or None."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.memory_exceeded


class SandboxError(RuntimeError):
    """The sandbox could not run the program (an infrastructure failure, to be masked)."""


class Sandbox:
    """Base class: implement ``run`` (sync) or ``arun`` (async); the other is derived."""

    isolation: Isolation = "none"

    def run(self, argv: list[str], *, files: dict[str, str | bytes] | None = None,
            stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        raise NotImplementedError

    def run_python(self, code: str, *, files: dict[str, str | bytes] | None = None,
                   stdin: str | bytes | None = None, limits: Limits | None = None) -> ExecResult:
        raise NotImplementedError

    async def arun(self, argv: list[str], **kwargs) -> ExecResult:
        return await asyncio.to_thread(self.run, argv, **kwargs)

    async def arun_python(self, code: str, **kwargs) -> ExecResult:
        return await asyncio.to_thread(self.run_python, code, **kwargs)

    def close(self) -> None:
        """Release workers and scratch space."""
