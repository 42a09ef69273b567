"""`OpenAIHTTPPolicy`: an OpenAI-compatible Chat Completions client (vLLM, SGLang, NIM, OpenAI).

Built on aiohttp (not httpx: NeMo Gym saw a 40-minute hang in httpx's pool at 16k concurrent
requests). One ``ClientSession`` per event loop, created lazily, with a ``TCPConnector`` sized
to the concurrency limit; an ``asyncio.Semaphore`` bounds requests in flight. Each attempt has a
``ClientTimeout``; connection errors, timeouts, 429 and 5xx are retried with exponential
backoff and jitter, other 4xx are not. Whatever cannot be answered raises ``PolicyError`` (the
runner masks the episode); whatever the model says is returned as a message.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import threading
import time
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from nemogym.messages import Message, ToolSchema
from nemogym.policies.base import PolicyContext, PolicyError, PolicyResponse, Sampling

#: Statuses worth retrying: rate limiting and server-side failures.
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
_BODY_CHARS = 200


#: The attribute of an event loop holding ``{policy: _LoopState}`` (weak in the policy).
_LOOP_ATTR = "_nemogym_http_policies"


@dataclass
class _LoopState:
    """What one event loop uses: its session, its concurrency slots, its model-discovery lock."""

    session: aiohttp.ClientSession
    sem: asyncio.Semaphore
    model_lock: asyncio.Lock
    guard: AsyncGenerator[None, None]


class OpenAIHTTPPolicy:
    """Chat Completions over HTTP with tools, bounded concurrency, timeouts and retries.

    ``base_url`` is the server's OpenAI root, e.g. ``http://127.0.0.1:8000/v1`` (a bare
    ``http://host:port`` gets ``/v1``). ``model=None`` asks ``GET /models`` on first use.
    ``sampling`` holds defaults; the ``sampling`` given per call overrides the fields it sets.
    ``return_token_ids=True`` asks a vLLM server for token ids and logprobs of each generation.
    One call waits at most about ``(max_retries + 1) * timeout_s`` plus the backoff sleeps.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        concurrency: int = 64,
        timeout_s: float = 60.0,
        connect_timeout_s: float | None = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        sampling: Sampling | None = None,
        return_token_ids: bool = False,
        extra_headers: dict[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.base_url = normalize_base_url(base_url)
        self.url = self.base_url + "/chat/completions"
        self.model = model
        self.concurrency = concurrency
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = connect_timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sampling = sampling or Sampling()
        self.return_token_ids = return_token_ids
        self.extra_body = dict(extra_body or {})
        self.headers = {"Content-Type": "application/json", **(extra_headers or {})}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        #: One session (with its semaphore and locks) per event loop: sync callers on several
        #: threads (``run_sync``) each use their own loop at the same time.
        #: The state lives on the loop (see ``_LOOP_ATTR``), so a loop whose thread is gone is
        #: collected with its session; the policy only keeps weak references to its loops.
        self._loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._pinned: dict[asyncio.AbstractEventLoop, _LoopState] = {}  # loops without a __dict__
        self._loops_lock = threading.Lock()
        self._last: _LoopState | None = None
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"OpenAIHTTPPolicy({self.base_url!r}, model={self.model!r})"

    # -- the Policy protocol ------------------------------------------------------------
    async def __call__(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        *,
        sampling: Sampling | None = None,
        context: PolicyContext | None = None,
    ) -> PolicyResponse:
        """Generate one assistant message; raises ``PolicyError`` when the server cannot answer."""
        t0 = time.perf_counter()
        session, sem = await self._session_for_loop()
        if self.model is None:
            await self._discover_model(session)
        body = self.build_body(messages, tools, sampling)
        data = await self._post_with_retries(session, sem, body)
        resp = parse_chat_completion(data, default_model=self.model)
        resp.latency_s = time.perf_counter() - t0
        return resp

    async def aclose(self) -> None:
        """Close the HTTP sessions (idempotent); a later call opens a new one.

        The running loop's session is closed here; a session of another loop is closed by that
        loop (scheduled on it if it runs, closed at once if it is stopped or closed).
        """
        with self._loops_lock:
            loops = list(self._loops) + list(self._pinned)
            states = [(loop, st) for loop in loops if (st := self._take_state(loop)) is not None]
            self._loops, self._pinned, self._last = weakref.WeakSet(), {}, None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, st in states:
            if st.session.closed:
                continue
            if loop is running:
                await st.session.close()
                await st.guard.aclose()
            else:
                self._drop_session(st.session, loop)

    def _state(self, loop: asyncio.AbstractEventLoop) -> _LoopState | None:
        table = getattr(loop, _LOOP_ATTR, None)
        return table.get(self) if table is not None else self._pinned.get(loop)

    def _take_state(self, loop: asyncio.AbstractEventLoop) -> _LoopState | None:
        table = getattr(loop, _LOOP_ATTR, None)
        if table is not None:
            return table.pop(self, None)
        return self._pinned.pop(loop, None)

    @property
    def _session(self) -> aiohttp.ClientSession | None:
        """The session of the latest call (tests and debugging)."""
        return self._last.session if self._last is not None else None

    @staticmethod
    def _drop_session(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop | None) -> None:
        """Let go of a session of another loop: a running loop closes it itself; the sockets of
        a session whose loop is stopped or closed are closed here."""
        if loop is not None and not loop.is_closed() and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(session.close(), loop)
                return
            except RuntimeError:  # the loop closed in between
                pass
        _detach_session(session)

    # -- request building ---------------------------------------------------------------
    def build_body(self, messages: list[Message], tools: list[ToolSchema] | None,
                   sampling: Sampling | None) -> dict[str, Any]:
        """The JSON body for one Chat Completions request."""
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if tools:
            body["tools"] = tools
        s = merge_sampling(self.sampling, sampling)
        for key in ("temperature", "top_p", "max_tokens", "stop", "seed"):
            value = getattr(s, key)
            if value is not None:
                body[key] = value
        if s.logprobs or self.return_token_ids:
            body["logprobs"] = True
        if self.return_token_ids:
            # vLLM extensions: logprob tokens as "token_id:N", and explicit id lists.
            body["return_tokens_as_token_ids"] = True
            body["return_token_ids"] = True
        body.update(self.extra_body)
        body.update(s.extra)
        return body

    # -- transport ----------------------------------------------------------------------
    async def _session_for_loop(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        """This loop's session and semaphore, made on first use (and again once closed)."""
        loop = asyncio.get_running_loop()
        st = self._state(loop)
        if st is None or st.session.closed:
            connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=0,
                                             ttl_dns_cache=300)
            timeout = aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=self.connect_timeout_s)
            session = aiohttp.ClientSession(connector=connector, timeout=timeout, headers=self.headers)
            # An async generator the loop finalises at shutdown (asyncio.run does): it closes
            # the session there, so a caller that forgets aclose() leaks no sockets.
            st = _LoopState(session, asyncio.Semaphore(self.concurrency), asyncio.Lock(),
                            _close_at_loop_shutdown(session))
            await st.guard.__anext__()
            with self._loops_lock:
                for other, old in list(self._pinned.items()):  # forget loops that are gone
                    if other.is_closed():
                        del self._pinned[other]
                        if not old.session.closed:
                            _detach_session(old.session)
                table = getattr(loop, _LOOP_ATTR, None)
                if table is None:
                    try:
                        table = weakref.WeakKeyDictionary()
                        setattr(loop, _LOOP_ATTR, table)
                    except AttributeError:  # a loop that takes no attributes (uvloop)
                        table = None
                if table is not None:
                    table[self] = st
                    self._loops.add(loop)
                else:
                    self._pinned[loop] = st
        self._last = st
        return st.session, st.sem

    async def _post_with_retries(self, session: aiohttp.ClientSession, sem: asyncio.Semaphore,
                                 body: dict[str, Any]) -> Any:
        """POST ``body``; each attempt holds a concurrency slot, backoff sleeps do not."""
        # backslashreplace: a lone surrogate in the history goes out as its JSON escape
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")
        last = "no attempt made"
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                async with sem, session.post(self.url, data=payload) as r:
                    raw = await r.read()
                    status, header = r.status, r.headers.get("Retry-After")
                if status == 200:
                    return _decode_json(raw, self.url)
                last = f"HTTP {status}: {raw.decode('utf-8', 'replace')[:_BODY_CHARS]!r}"
                if status not in RETRY_STATUSES:
                    raise PolicyError(f"policy server {self.url} refused the request: {last}")
                retry_after = _retry_after(header)
            except PolicyError:
                raise
            except TimeoutError:
                last = f"timed out after {self.timeout_s:g}s"
            except (aiohttp.ClientError, OSError) as e:
                last = f"{type(e).__name__}: {e}"
            if attempt + 1 < attempts:
                await asyncio.sleep(self._backoff(attempt, retry_after))
        raise PolicyError(f"policy server {self.url} failed after {attempts} attempt(s); last: {last}")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = self.backoff_s * (2 ** attempt) * (0.5 + self._rng.random())  # full jitter band
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_backoff_s)

    async def _discover_model(self, session: aiohttp.ClientSession) -> None:
        st = self._state(asyncio.get_running_loop())
        lock = st.model_lock if st is not None else asyncio.Lock()
        async with lock:
            if self.model is not None:
                return
            url = self.base_url + "/models"
            try:
                async with session.get(url) as r:
                    raw = await r.read()
                    if r.status != 200:
                        raise PolicyError(f"GET {url} returned HTTP {r.status}: "
                                          f"{raw.decode('utf-8', 'replace')[:_BODY_CHARS]!r}")
            except (TimeoutError, aiohttp.ClientError, OSError) as e:
                raise PolicyError(f"no model given and GET {url} failed: {type(e).__name__}: {e}") from e
            data = _decode_json(raw, url)
            try:
                self.model = str(data["data"][0]["id"])
            except (KeyError, IndexError, TypeError) as e:
                raise PolicyError(f"no model given and {url} lists none: {str(data)[:_BODY_CHARS]!r}") from e


# -- helpers (pure, tested directly) ----------------------------------------------------
def normalize_base_url(base_url: str) -> str:
    """``http://h:p`` -> ``http://h:p/v1``; strips a trailing ``/`` and ``/chat/completions``."""
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {base_url!r} (expected e.g. http://127.0.0.1:8000/v1)")
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")]
    if not parts.path or parts.path == "/":
        url += "/v1"
    return url


def merge_sampling(defaults: Sampling, override: Sampling | None) -> Sampling:
    """``defaults`` with the fields ``override`` sets explicitly (``extra`` dicts are merged)."""
    if override is None:
        return defaults
    merged = defaults.model_dump()
    for key in override.model_fields_set:
        if key == "extra":
            merged["extra"] = {**defaults.extra, **override.extra}
        else:
            merged[key] = getattr(override, key)
    return Sampling(**merged)


def parse_chat_completion(data: Any, default_model: str | None = None) -> PolicyResponse:
    """A Chat Completions response body -> ``PolicyResponse``; ``PolicyError`` if it is not one."""
    if not isinstance(data, dict):
        raise PolicyError(f"response is not a JSON object: {str(data)[:_BODY_CHARS]!r}")
    if "error" in data and not data.get("choices"):
        raise PolicyError(f"server returned an error: {str(data['error'])[:_BODY_CHARS]!r}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise PolicyError(f"response has no choices: {json.dumps(data)[:_BODY_CHARS]!r}")
    choice = choices[0]
    raw_msg = choice.get("message")
    if not isinstance(raw_msg, dict):
        raise PolicyError(f"choice has no message: {json.dumps(choice)[:_BODY_CHARS]!r}")
    message = _assistant_message(raw_msg)
    token_ids, logprobs = _token_logprobs(choice.get("logprobs"))
    explicit_ids = _int_list(choice.get("token_ids"))
    prompt_ids = _int_list(choice.get("prompt_token_ids")) or _int_list(data.get("prompt_token_ids"))
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return PolicyResponse(
        message=message,
        usage={k: int(v) for k, v in usage.items()
               if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)},
        finish_reason=choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None,
        model=data.get("model") if isinstance(data.get("model"), str) else default_model,
        prompt_token_ids=prompt_ids,
        token_ids=explicit_ids if explicit_ids is not None else token_ids,
        logprobs=logprobs,
    )


def _assistant_message(raw: dict[str, Any]) -> Message:
    content = raw.get("content")
    if content is not None and not isinstance(content, str):
        content = json.dumps(content) if not isinstance(content, list) else "".join(
            p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    tool_calls = raw.get("tool_calls")
    calls: list[dict[str, Any]] = []
    if isinstance(tool_calls, list):
        for i, call in enumerate(tool_calls):
            if not isinstance(call, dict):
                continue
            fn = call.get("function") if isinstance(call.get("function"), dict) else {}
            args = fn.get("arguments", "")
            calls.append({
                "id": call.get("id") or f"call_{i}",
                "type": call.get("type") or "function",
                "function": {
                    "name": fn.get("name", ""),
                    # Keep the server's string as-is; a server that sends an object gets JSON.
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            })
    msg: Message = {"role": "assistant", "content": content if (content is not None or calls) else ""}
    if calls:
        msg["tool_calls"] = calls
    return msg


def _token_logprobs(lp: Any) -> tuple[list[int] | None, list[float] | None]:
    """vLLM/OpenAI ``choices[0].logprobs.content[*].{token, logprob}``; ids from "token_id:N"."""
    if not isinstance(lp, dict) or not isinstance(lp.get("content"), list):
        return None, None
    entries = [e for e in lp["content"] if isinstance(e, dict)]
    logprobs: list[float] | None = []
    ids: list[int] | None = []
    for e in entries:
        v = e.get("logprob")
        if logprobs is not None:
            if isinstance(v, int | float) and not isinstance(v, bool):
                logprobs.append(float(v))
            else:
                logprobs = None
        tok = e.get("token")
        if ids is not None:
            if isinstance(tok, str) and tok.startswith("token_id:") and tok[9:].lstrip("-").isdigit():
                ids.append(int(tok[9:]))
            else:
                ids = None
    return (ids if ids else None), (logprobs if entries else None)


def _int_list(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    return None


def _decode_json(raw: bytes, url: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        text = raw.decode("utf-8", "replace")[:_BODY_CHARS]
        raise PolicyError(f"policy server {url} returned invalid JSON ({e}): {text!r}") from e


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def _close_at_loop_shutdown(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


def _detach_session(session: aiohttp.ClientSession) -> None:
    """Forget a session whose loop is gone or elsewhere, closing its sockets without awaiting."""
    connector = session.connector
    try:
        if connector is not None:
            connector._close()  # the synchronous part of close(); marks the session closed
    except Exception:  # noqa: BLE001 - best effort on a dead loop
        pass
