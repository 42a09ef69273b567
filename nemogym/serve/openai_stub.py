"""A small, real OpenAI-compatible Chat Completions server for tests, benches and demos.

``POST /v1/chat/completions`` and ``GET /v1/models`` on aiohttp.web; ``GET /stats`` reports
request counts and the most requests ever in flight at once. Modes:

- ``echo``: replies ``reply`` if given, else the last user message's text;
- ``arithmetic``: solves nemogym's Arithmetic-v0 prompt ``Compute EXPR.`` exactly (the
  expression is parsed with ``ast`` into ``Fraction`` arithmetic, never ``eval``-ed) and
  answers ``The answer is \\boxed{...}.``;
- ``fail500``: always HTTP 500; ``garbage``: HTTP 200 with a non-JSON body; ``hang``: never
  answers (until the server stops); ``flaky``: HTTP ``fail_status`` (503) for the first
  ``fail_first`` requests of each conversation (same messages), then as ``echo``.

With ``tool_calls=True`` a request that offers tools gets a call to its first tool (and a
request whose last message is a tool result gets a text reply). ``logprobs: true`` in a request
returns fake tokens and logprobs in vLLM's format (``"token_id:N"`` tokens when the request sets
``return_tokens_as_token_ids``; ``token_ids``/``prompt_token_ids`` when it sets
``return_token_ids``). Run: ``python -m nemogym.serve.openai_stub --port 8000 --mode arithmetic``.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import hashlib
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from aiohttp import web

MODES = ("echo", "arithmetic", "fail500", "garbage", "hang", "flaky")


@dataclass
class StubStats:
    """What the server saw; ``max_in_flight`` is the peak of concurrent requests."""

    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        self.requests = self.in_flight = self.max_in_flight = 0
        self.statuses.clear()

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}


class StubServer:
    """The stub server; ``async with StubServer(mode=...) as srv: srv.url`` runs it in this loop.

    Options: ``reply`` (echo text), ``fail_first``/``fail_status`` (flaky), ``delay_s`` (sleep
    before each answer), ``tool_calls``, ``model`` (the served model name), ``wrong_every``
    (arithmetic: answer about 1 in n problems wrongly, for demos; 0 = never).
    """

    def __init__(self, mode: str = "echo", *, host: str = "127.0.0.1", port: int = 0,
                 reply: str | None = None, fail_first: int = 2, fail_status: int = 503,
                 delay_s: float = 0.0, tool_calls: bool = False, model: str = "nemogym-stub",
                 wrong_every: int = 0):
        if mode not in MODES:
            raise ValueError(f"unknown stub mode {mode!r}; expected one of {', '.join(MODES)}")
        self.mode, self.host, self.port = mode, host, port
        self.reply, self.fail_first, self.fail_status = reply, fail_first, fail_status
        self.delay_s = delay_s
        self.tool_calls, self.model, self.wrong_every = tool_calls, model, wrong_every
        self.stats = StubStats()
        #: The JSON body of the latest chat request (tests check what a client sent).
        self.last_body: Any = None
        self._seen: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        """The OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    # -- lifecycle ----------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/stats", self._stats)
        return app

    async def start(self) -> str:
        """Bind and serve (port 0 picks a free port); returns the base URL."""
        self._stopping = asyncio.Event()
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=8192, reuse_address=True)
        await site.start()
        server = site._server
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        """Wake hanging handlers and shut down (idempotent)."""
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> StubServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers -----------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": self.model, "object": "model", "created": 0, "owned_by": "nemogym"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_dict())

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        st = self.stats
        st.requests += 1
        st.in_flight += 1
        st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            resp = await self._answer(request)
        finally:
            st.in_flight -= 1
        st.statuses[resp.status] = st.statuses.get(resp.status, 0) + 1
        return resp

    async def _answer(self, request: web.Request) -> web.Response:
        try:
            body = self.last_body = await request.json()
            messages = body["messages"]
            if not isinstance(messages, list):
                raise TypeError("messages must be a list")
        except (ValueError, KeyError, TypeError) as e:
            return _error(400, f"bad request: {e}")
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.mode == "fail500":
            return _error(500, "stub server: mode fail500")
        if self.mode == "garbage":
            return web.Response(status=200, text="<html>this is not JSON {", content_type="text/html")
        if self.mode == "hang":
            assert self._stopping is not None
            await self._stopping.wait()
            return _error(503, "stub server stopping")
        if self.mode == "flaky":
            key = hashlib.sha1(json.dumps(messages, sort_keys=True).encode()).hexdigest()
            seen = self._seen[key] = self._seen.get(key, 0) + 1
            if seen <= self.fail_first:
                return _error(self.fail_status, f"stub server: flaky failure {seen}/{self.fail_first}")
        return web.json_response(self._completion(body, messages))

    def _completion(self, body: dict[str, Any], messages: list[Any]) -> dict[str, Any]:
        content, calls = self._reply_for(messages, body.get("tools") or [])
        prompt_text = " ".join(_text(m) for m in messages if isinstance(m, dict))
        prompt_toks = _tokens(prompt_text)
        out_toks = _tokens(content or "") or ([json.dumps(calls)] if calls else [])
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = calls
        choice: dict[str, Any] = {"index": 0, "message": message,
                                  "finish_reason": "tool_calls" if calls else "stop"}
        data: dict[str, Any] = {
            "id": f"chatcmpl-{zlib.crc32(_utf8(prompt_text)):08x}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model") or self.model,
            "choices": [choice],
            "usage": {"prompt_tokens": len(prompt_toks), "completion_tokens": len(out_toks),
                      "total_tokens": len(prompt_toks) + len(out_toks)},
        }
        as_ids = bool(body.get("return_tokens_as_token_ids"))
        if body.get("logprobs"):
            choice["logprobs"] = {"content": [
                {"token": f"token_id:{_tok_id(t)}" if as_ids else t,
                 "logprob": -0.05 * (i % 7), "bytes": list(_utf8(t)), "top_logprobs": []}
                for i, t in enumerate(out_toks)]}
        if body.get("return_token_ids"):
            choice["token_ids"] = [_tok_id(t) for t in out_toks]
            data["prompt_token_ids"] = [_tok_id(t) for t in prompt_toks]
        return data

    def _reply_for(self, messages: list[Any], tools: list[Any]) -> tuple[str | None, list[Any]]:
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        if self.tool_calls and tools and last.get("role") != "tool":
            fn = (tools[0].get("function") or {}) if isinstance(tools[0], dict) else {}
            args = json.dumps({"text": _last_user(messages)})
            n = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
            return None, [{"id": f"call_{n}", "type": "function",
                           "function": {"name": fn.get("name", "tool"), "arguments": args}}]
        if last.get("role") == "tool":
            return f"The tool said: {_text(last)}", []
        if self.mode == "arithmetic":
            return self._arithmetic(_last_user(messages)), []
        return (self.reply if self.reply is not None else _last_user(messages)), []

    def _arithmetic(self, prompt: str) -> str:
        try:
            value = solve_prompt(prompt)
        except UnsolvableError as e:
            return f"I cannot solve this: {e}"
        if self.wrong_every and zlib.crc32(_utf8(prompt)) % self.wrong_every == 0:
            value += 1
        answer = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
        return f"The answer is \\boxed{{{answer}}}."


class UnsolvableError(ValueError):
    """The prompt holds no expression the arithmetic solver accepts."""


_PROMPT = re.compile(r"Compute\s+(.+?)\.?\s*$", re.DOTALL)
_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}
_FRACTION_LITERAL = re.compile(r"(\d+)/(\d+)")
MAX_EXPRESSION_CHARS = 2000


def solve_prompt(prompt: str) -> Fraction:
    """The exact value of ``Compute EXPR.``: integers, + - * /, parentheses, unary minus."""
    m = _PROMPT.search(prompt.strip())
    if not m:
        raise UnsolvableError("no 'Compute EXPR.' in the prompt")
    return evaluate(m.group(1))


def evaluate(expr: str) -> Fraction:
    """Evaluate an arithmetic expression exactly, walking its ``ast`` (never ``eval``).

    As in Arithmetic-v0's prompts, ``p/q`` written without spaces is one fraction literal
    (``1 / 14/3`` is ``1 / (14/3)``); the division operator is written with spaces.
    """
    if len(expr) > MAX_EXPRESSION_CHARS:
        raise UnsolvableError(f"expression longer than {MAX_EXPRESSION_CHARS} chars")
    try:
        tree = ast.parse(_FRACTION_LITERAL.sub(r"(\1/\2)", expr), mode="eval")
        return _eval(tree.body)
    except ZeroDivisionError as e:
        raise UnsolvableError("division by zero") from e
    except (SyntaxError, RecursionError, MemoryError) as e:
        raise UnsolvableError(f"cannot parse {expr[:80]!r}: {type(e).__name__}") from e


def _eval(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    raise UnsolvableError(f"unsupported syntax: {type(node).__name__}")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "stub_error", "code": status}},
                             status=status)


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _last_user(messages: list[Any]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            return _text(m)
    return ""


_TOKEN = re.compile(r"\s*\S+")


def _tokens(text: str) -> list[str]:
    """Fake tokenisation: whitespace-led words."""
    return _TOKEN.findall(text)


def _tok_id(token: str) -> int:
    return zlib.crc32(_utf8(token)) % 100_000


def _utf8(text: str) -> bytes:
    """UTF-8 bytes that survive a lone surrogate (a client's ``"\\ud83d"`` escape)."""
    return text.encode("utf-8", "surrogatepass")


# -- running it ---------------------------------------------------------------------------
class StubHandle:
    """Stops a stub server started by ``start_stub_server``; ``.server`` holds its stats."""

    def __init__(self, server: StubServer, loop: asyncio.AbstractEventLoop, thread: threading.Thread):
        self.server, self._loop, self._thread = server, loop, thread

    @property
    def stats(self) -> StubStats:
        return self.server.stats

    def __call__(self) -> None:
        if not self._thread.is_alive():
            return
        fut = asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop)
        try:
            fut.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


def start_stub_server(mode: str = "echo", **options: Any) -> tuple[str, StubHandle]:
    """Run a ``StubServer`` on a free port in a background thread; returns ``(url, stop)``."""
    server = StubServer(mode, **options)
    loop = asyncio.new_event_loop()
    started: dict[str, Any] = {}
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["url"] = loop.run_until_complete(server.start())
        except BaseException as e:  # noqa: BLE001 - reported to the caller below
            started["error"] = e
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name=f"nemogym-stub-{mode}", daemon=True)
    thread.start()
    if not ready.wait(timeout=30):
        raise RuntimeError("stub server did not start within 30s")
    if "error" in started:
        raise RuntimeError(f"stub server failed to start: {started['error']}") from started["error"]
    return started["url"], StubHandle(server, loop, thread)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nemogym.serve.openai_stub",
                                     description="A small OpenAI-compatible Chat Completions stub.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--mode", choices=MODES, default="echo")
    parser.add_argument("--reply", default=None, help="echo mode: reply with this fixed text")
    parser.add_argument("--fail-first", type=int, default=2, help="flaky: failures per conversation")
    parser.add_argument("--fail-status", type=int, default=503, help="flaky: the failure status")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--tool-calls", action="store_true", help="call the first offered tool")
    parser.add_argument("--model", default="nemogym-stub", help="the served model name")
    parser.add_argument("--wrong-every", type=int, default=0,
                        help="arithmetic: answer about 1 in N problems wrongly (0: never)")
    a = parser.parse_args(argv)
    server = StubServer(a.mode, host=a.host, port=a.port, reply=a.reply, fail_first=a.fail_first,
                        fail_status=a.fail_status, delay_s=a.delay, tool_calls=a.tool_calls, model=a.model,
                        wrong_every=a.wrong_every)

    async def run() -> None:
        url = await server.start()
        print(f"nemogym stub ({a.mode}) serving {url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
