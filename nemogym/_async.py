"""Run a coroutine to completion from synchronous code, inside or outside an event loop."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_loops: dict[threading.Thread, asyncio.AbstractEventLoop] = {}
_loops_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _forget_after_fork() -> None:
    # A forked child inherits the parent's loops and pool threads in a state it cannot use
    # (the threads do not exist in the child): start fresh ones on first use.
    global _loops, _loops_lock, _pool
    _loops, _loops_lock, _pool = {}, threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)


def _close_loops(only_dead: bool) -> None:
    with _loops_lock:
        for thread in [t for t in _loops if not (only_dead and t.is_alive())]:
            loop = _loops.pop(thread)
            if not loop.is_running():
                loop.close()


atexit.register(_close_loops, False)


def _thread_loop() -> asyncio.AbstractEventLoop:
    # One persistent loop per thread: resources an env creates in its first reset (locks,
    # HTTP sessions) stay bound to a loop that is still alive at the next step. Loops of
    # threads that have ended are closed here (not left to the garbage collector, whose
    # order of finalisation breaks a loop's close).
    thread = threading.current_thread()
    loop = _loops.get(thread)
    if loop is None or loop.is_closed():
        _close_loops(only_dead=True)
        loop = asyncio.new_event_loop()
        with _loops_lock:
            _loops[thread] = loop
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
