"""Run a coroutine to completion from synchronous code, inside or outside an event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _forget_after_fork() -> None:
    # A forked child inherits the parent's loops and pool threads in a state it cannot use
    # (the threads do not exist in the child): start fresh ones on first use.
    global _local, _pool
    _local = threading.local()
    _pool = None


os.register_at_fork(after_in_child=_forget_after_fork)


def _thread_loop() -> asyncio.AbstractEventLoop:
    # One persistent loop per thread: resources an env creates in its first reset (locks,
    # HTTP sessions) stay bound to a loop that is still alive at the next step.
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` and return its result; works even when called from inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _thread_loop().run_until_complete(coro)
    # Called from async code through a sync API: finish on a helper thread's own loop.
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="nemogym-sync")
    return _pool.submit(lambda: _thread_loop().run_until_complete(coro)).result()
