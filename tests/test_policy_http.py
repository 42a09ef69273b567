"""OpenAIHTTPPolicy against a real OpenAI-compatible stub server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from nemogym.policies import OpenAIHTTPPolicy, PolicyContext, PolicyError, Sampling
from nemogym.policies.openai_http import (
    merge_sampling,
    normalize_base_url,
    parse_chat_completion,
)
from nemogym.serve.openai_stub import StubHandle, StubServer, start_stub_server

USER = [{"role": "user", "content": "Compute 1 + 2."}]
TOOLS = [{"type": "function", "function": {
    "name": "lookup", "description": "Look something up.",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}}}}]


@pytest.fixture
def stub() -> Iterator[Any]:
    """``stub(mode, **options) -> (url, handle)``; every server started is stopped after."""
    handles: list[StubHandle] = []

    def start(mode: str = "echo", **options: Any) -> tuple[str, StubHandle]:
        url, handle = start_stub_server(mode, **options)
        handles.append(handle)
        return url, handle

    yield start
    for h in handles:
        h()


def call(policy: OpenAIHTTPPolicy, *args: Any, **kwargs: Any):
    """One call on a fresh loop, closing the policy's session afterwards."""
    async def go():
        try:
            return await policy(*args, **kwargs)
        finally:
            await policy.aclose()
    return asyncio.run(go())


def test_text_reply_with_usage_and_latency(stub):
    url, srv = stub("echo", reply="hello there", model="served-model")
    policy = OpenAIHTTPPolicy(url, "my-model")
    resp = call(policy, USER)
    assert resp.message == {"role": "assistant", "content": "hello there"}
    assert resp.finish_reason == "stop"
    assert resp.model == "my-model"  # the stub echoes the requested model name
    assert resp.usage["completion_tokens"] == 2
    assert resp.usage["total_tokens"] == resp.usage["prompt_tokens"] + 2
    assert resp.latency_s > 0
    assert resp.token_ids is None and resp.logprobs is None
    assert srv.stats.requests == 1
    assert srv.server.last_body["messages"] == USER
    assert "tools" not in srv.server.last_body and "logprobs" not in srv.server.last_body


def test_tool_calls_keep_openai_format_and_argument_string(stub):
    url, srv = stub("echo", tool_calls=True)
    policy = OpenAIHTTPPolicy(url, "m")
    resp = call(policy, USER, TOOLS)
    assert srv.server.last_body["tools"] == TOOLS
    assert resp.finish_reason == "tool_calls"
    assert resp.message["content"] is None
    [tc] = resp.message["tool_calls"]
    assert tc["type"] == "function" and tc["id"] == "call_0"
    assert tc["function"]["name"] == "lookup"
    assert isinstance(tc["function"]["arguments"], str)
    assert json.loads(tc["function"]["arguments"]) == {"text": "Compute 1 + 2."}
    # the tool result goes back and the server answers in text
    follow = USER + [resp.message, {"role": "tool", "tool_call_id": "call_0", "content": "3"}]
    resp2 = call(policy, follow, TOOLS)
    assert resp2.message == {"role": "assistant", "content": "The tool said: 3"}
    assert srv.server.last_body["messages"][1]["tool_calls"][0]["function"]["arguments"] == \
        tc["function"]["arguments"]


def test_token_ids_and_logprobs_in_vllm_format(stub):
    url, srv = stub("echo", reply="one two three")
    policy = OpenAIHTTPPolicy(url, "m", return_token_ids=True)
    resp = call(policy, USER)
    body = srv.server.last_body
    assert body["logprobs"] is True and body["return_tokens_as_token_ids"] is True
    assert resp.token_ids is not None and len(resp.token_ids) == 3
    assert all(isinstance(t, int) for t in resp.token_ids)
    assert resp.logprobs is not None and len(resp.logprobs) == 3
    assert all(lp <= 0 for lp in resp.logprobs)
    assert resp.prompt_token_ids is not None and len(resp.prompt_token_ids) == resp.usage["prompt_tokens"]


def test_token_ids_parsed_from_logprob_tokens_alone():
    data = {"choices": [{"message": {"role": "assistant", "content": "ab"}, "finish_reason": "length",
                         "logprobs": {"content": [{"token": "token_id:17", "logprob": -0.5},
                                                  {"token": "token_id:4", "logprob": 0.0}]}}]}
    resp = parse_chat_completion(data, default_model="m")
    assert resp.token_ids == [17, 4] and resp.logprobs == [-0.5, 0.0]
    assert resp.finish_reason == "length" and resp.model == "m"
    text_tokens = {"choices": [{"message": {"content": "ab"},
                                "logprobs": {"content": [{"token": "a", "logprob": -1.0}]}}]}
    resp = parse_chat_completion(text_tokens)
    assert resp.token_ids is None and resp.logprobs == [-1.0]


def test_logprobs_without_token_ids(stub):
    url, srv = stub("echo", reply="x y")
    resp = call(OpenAIHTTPPolicy(url, "m"), USER, sampling=Sampling(logprobs=True))
    assert srv.server.last_body["logprobs"] is True
    assert "return_token_ids" not in srv.server.last_body
    assert resp.logprobs is not None and len(resp.logprobs) == 2
    assert resp.token_ids is None  # the tokens came back as text


def test_sampling_defaults_and_overrides_reach_the_body(stub):
    url, srv = stub("echo")
    policy = OpenAIHTTPPolicy(url, "m", sampling=Sampling(temperature=0.7, top_p=0.9, max_tokens=64,
                                                          extra={"top_k": 20}),
                              extra_body={"repetition_penalty": 1.1})
    call(policy, USER, sampling=Sampling(temperature=0.0, stop=["\n\n"], seed=5,
                                         extra={"min_p": 0.1}))
    body = srv.server.last_body
    assert body["temperature"] == 0.0 and body["top_p"] == 0.9 and body["max_tokens"] == 64
    assert body["stop"] == ["\n\n"] and body["seed"] == 5
    assert body["top_k"] == 20 and body["min_p"] == 0.1 and body["repetition_penalty"] == 1.1
    merged = merge_sampling(Sampling(temperature=1.0), None)
    assert merged.temperature == 1.0


def test_500s_are_retried_then_policy_error(stub):
    url, srv = stub("fail500")
    policy = OpenAIHTTPPolicy(url, "m", max_retries=2, backoff_s=0.01)
    with pytest.raises(PolicyError) as err:
        call(policy, USER)
    msg = str(err.value)
    assert "3 attempt" in msg and "HTTP 500" in msg and "mode fail500" in msg
    assert srv.stats.requests == 3


def test_garbage_json_is_policy_error_without_retry(stub):
    url, srv = stub("garbage")
    with pytest.raises(PolicyError, match="invalid JSON.*not JSON"):
        call(OpenAIHTTPPolicy(url, "m", backoff_s=0.01), USER)
    assert srv.stats.requests == 1


def test_hang_times_out_within_the_bound(stub):
    url, srv = stub("hang")
    policy = OpenAIHTTPPolicy(url, "m", timeout_s=0.3, max_retries=1, backoff_s=0.01)
    t0 = time.perf_counter()
    with pytest.raises(PolicyError, match="timed out after 0.3s"):
        call(policy, USER)
    elapsed = time.perf_counter() - t0
    assert 0.6 <= elapsed < 2.0
    assert srv.stats.requests == 2


def test_flaky_server_succeeds_after_retries(stub):
    url, srv = stub("flaky", fail_first=2, reply="ok")
    resp = call(OpenAIHTTPPolicy(url, "m", max_retries=3, backoff_s=0.01), USER)
    assert resp.message["content"] == "ok"
    assert srv.stats.requests == 3 and srv.stats.statuses == {503: 2, 200: 1}
    # too few retries for the same server: a PolicyError naming the last status
    url2, _ = stub("flaky", fail_first=2)
    with pytest.raises(PolicyError, match="HTTP 503"):
        call(OpenAIHTTPPolicy(url2, "m", max_retries=1, backoff_s=0.01), USER)


def test_429_is_retried_but_other_4xx_are_not(stub):
    url, srv = stub("flaky", fail_first=1, fail_status=429, reply="ok")
    assert call(OpenAIHTTPPolicy(url, "m", backoff_s=0.01), USER).message["content"] == "ok"
    assert srv.stats.requests == 2
    url, srv = stub("flaky", fail_first=1, fail_status=404)
    with pytest.raises(PolicyError, match="refused the request: HTTP 404"):
        call(OpenAIHTTPPolicy(url, "m", backoff_s=0.01), USER)
    assert srv.stats.requests == 1
    # a 400 from a malformed body (extra_body overrides messages) is not retried either
    url, srv = stub("echo")
    with pytest.raises(PolicyError, match="HTTP 400"):
        call(OpenAIHTTPPolicy(url, "m", extra_body={"messages": "nope"}), USER)
    assert srv.stats.requests == 1


def test_connection_refused_is_policy_error(stub):
    url, srv = stub("echo")
    srv()  # stop it: the port now refuses connections
    t0 = time.perf_counter()
    with pytest.raises(PolicyError, match="failed after 2 attempt"):
        call(OpenAIHTTPPolicy(url, "m", max_retries=1, backoff_s=0.01), USER)
    assert time.perf_counter() - t0 < 5


def test_concurrency_limit_is_honoured(stub):
    url, srv = stub("echo", delay_s=0.03)
    policy = OpenAIHTTPPolicy(url, "m", concurrency=4)

    async def go():
        try:
            return await asyncio.gather(*[policy(USER) for _ in range(50)])
        finally:
            await policy.aclose()

    results = asyncio.run(go())
    assert len(results) == 50
    assert srv.stats.requests == 50
    assert 2 <= srv.stats.max_in_flight <= 4


def test_a_thousand_concurrent_calls_complete(stub):
    url, srv = stub("echo", delay_s=0.2)
    policy = OpenAIHTTPPolicy(url, "m", concurrency=256)

    async def go():
        try:
            calls = [policy([{"role": "user", "content": f"q{i}"}]) for i in range(1000)]
            return await asyncio.wait_for(asyncio.gather(*calls), timeout=45)
        finally:
            await policy.aclose()

    results = asyncio.run(go())
    assert [r.message["content"] for r in results] == [f"q{i}" for i in range(1000)]
    assert srv.stats.requests == 1000
    # the pool is sized to the limit: well past aiohttp's default cap of 100 connections
    assert 100 < srv.stats.max_in_flight <= 256


def test_model_is_discovered_when_not_given(stub):
    url, srv = stub("echo", model="served-model")
    policy = OpenAIHTTPPolicy(url.removesuffix("/v1"))  # bare host:port gets /v1
    resp = call(policy, USER)
    assert policy.model == "served-model" and resp.model == "served-model"
    assert srv.server.last_body["model"] == "served-model"


def test_policy_survives_loop_changes_and_aclose(stub):
    url, _ = stub("echo", reply="r")
    policy = OpenAIHTTPPolicy(url, "m")
    # two asyncio.run calls without aclose in between: the session is rebuilt on the new loop
    assert asyncio.run(policy(USER)).message["content"] == "r"
    assert asyncio.run(policy(USER)).message["content"] == "r"

    async def close_twice():
        await policy.aclose()
        await policy.aclose()
    asyncio.run(close_twice())
    assert call(policy, USER, context=PolicyContext(task_index=0)).message["content"] == "r"


def test_session_is_closed_when_its_loop_shuts_down(stub):
    url, _ = stub("echo")
    policy = OpenAIHTTPPolicy(url, "m")
    asyncio.run(policy(USER))  # no aclose(): asyncio.run's shutdown closes the session
    assert policy._session is not None and policy._session.closed


def test_session_of_a_live_loop_in_another_thread_is_closed_by_that_loop(stub):
    url, _ = stub("echo", reply="r")
    policy = OpenAIHTTPPolicy(url, "m")
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:
        fut = asyncio.run_coroutine_threadsafe(policy(USER), other)
        assert fut.result(timeout=10).message["content"] == "r"
        first = policy._session
        assert call(policy, USER).message["content"] == "r"  # now on this thread's loop
        deadline = time.monotonic() + 5
        while not first.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert first.closed
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(timeout=5)
        other.close()


async def _in_loop_server() -> str:
    async with StubServer("arithmetic") as srv:
        policy = OpenAIHTTPPolicy(srv.url, "m")
        try:
            resp = await policy([{"role": "user", "content": "Compute (1 + 2) * 3/4."}])
        finally:
            await policy.aclose()
        return resp.message["content"]


def test_stub_as_async_context_manager_in_the_same_loop():
    assert asyncio.run(_in_loop_server()) == "The answer is \\boxed{9/4}."


@pytest.mark.parametrize("data, match", [
    ([1, 2], "not a JSON object"),
    ({"error": {"message": "overloaded"}}, "server returned an error"),
    ({"choices": []}, "no choices"),
    ({"choices": [{"index": 0}]}, "no message"),
])
def test_malformed_bodies_are_policy_errors(data, match):
    with pytest.raises(PolicyError, match=match):
        parse_chat_completion(data)


def test_message_normalisation():
    resp = parse_chat_completion({"choices": [{"message": {"role": "assistant", "content": None}}]})
    assert resp.message == {"role": "assistant", "content": ""}  # the model said nothing
    resp = parse_chat_completion({"choices": [{"message": {"content": None, "tool_calls": [
        {"function": {"name": "f", "arguments": {"a": 1}}}]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "details": {"x": 1}}})
    assert resp.message["tool_calls"] == [
        {"id": "call_0", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]
    assert resp.usage == {"prompt_tokens": 3, "completion_tokens": 1}


def test_base_url_normalisation_and_bad_arguments():
    assert normalize_base_url("http://h:1/v1/") == "http://h:1/v1"
    assert normalize_base_url("http://h:1") == "http://h:1/v1"
    assert normalize_base_url("https://h/v1/chat/completions") == "https://h/v1"
    with pytest.raises(ValueError, match="not an http"):
        OpenAIHTTPPolicy("ftp://h/v1", "m")
    with pytest.raises(ValueError, match="concurrency"):
        OpenAIHTTPPolicy("http://h/v1", "m", concurrency=0)


def test_a_lone_surrogate_in_the_history_is_sent_as_its_json_escape(stub):
    # A model's earlier turn may hold a lone surrogate (a server's "\ud83d" escape): the next
    # request must still go out, not fail to encode.
    url, srv = stub("echo")
    policy = OpenAIHTTPPolicy(url, "m")
    resp = call(policy, [{"role": "assistant", "content": "half \ud83d"}, {"role": "user", "content": "again \ud83d"}])
    assert resp.message["content"] == "again \ud83d"
    assert srv.server.last_body["messages"][0]["content"] == "half \ud83d"


def test_sync_callers_on_several_threads_share_one_policy(stub):
    # run_sync gives each thread its own event loop; the policy must serve them all at once
    # (it used to swap one session between loops, closing it under another thread's request).
    from concurrent.futures import ThreadPoolExecutor

    from nemogym._async import run_sync

    url, _ = stub("echo", reply="r")
    policy = OpenAIHTTPPolicy(url, "m", max_retries=0)

    def one(i: int) -> str:
        return run_sync(policy([{"role": "user", "content": f"q{i}"}])).message["content"]

    with ThreadPoolExecutor(4) as ex:
        assert list(ex.map(one, range(200))) == ["r"] * 200
    assert len(policy._loops) <= 4  # one session per loop, reused
    # threads that come and go: their loops (and sessions) are not kept alive by the policy
    for _ in range(5):
        with ThreadPoolExecutor(4) as ex:
            assert list(ex.map(one, range(20))) == ["r"] * 20
    gc.collect()
    assert len(policy._loops) <= 5
    asyncio.run(policy.aclose())
    assert not policy._loops
