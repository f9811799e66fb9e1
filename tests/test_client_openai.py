"""The OpenAI client against a scripted loopback server: the happy paths and their variants."""

from __future__ import annotations

import json

import pytest

from tests.fakes import (
    DONE,
    Body,
    FakeProvider,
    Pause,
    Stream,
    chunk,
    collect,
    endpoint_for,
    lp,
    probe,
    simple_stream,
    sse,
)
from vvtui.clients import make_client, new_http_client
from vvtui.clients.accumulate import Accumulator
from vvtui.clients.events import (
    Failed,
    Finish,
    Flag,
    Meta,
    ReasoningDelta,
    RequestSent,
    ResponseHeaders,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from vvtui.model import Price


@pytest.fixture
async def http():
    async with new_http_client(max_connections=8) as client:
        yield client


async def run(fake, http, the_probe=None, **endpoint):
    ep = endpoint_for(fake, **endpoint)
    the_probe = the_probe or probe()
    events = await collect(make_client(ep, http).stream(the_probe))
    acc = Accumulator(ep, the_probe)
    for event in events:
        acc.feed(event)
    return events, acc.result()


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def test_stream_yields_ordered_events_and_a_result(http):
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    script = [Stream(simple_stream(["Hel", "lo", "!"], usage=usage))]
    async with FakeProvider(script) as fake:
        events, result = await run(fake, http, price=Price(1.0, 2.0))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:3] == ["RequestSent", "ResponseHeaders", "Meta"]
    assert kinds[-2:] == ["Usage", "Finish"]
    stamps = [e.t for e in events]
    assert stamps == sorted(stamps)
    assert result.text == "Hello!"
    assert result.finish_reason == "stop"
    assert (result.input_tokens, result.output_tokens) == (7, 3)
    assert not result.usage_estimated and "no_usage" not in result.flags
    assert result.cost_usd == pytest.approx((7 * 1.0 + 3 * 2.0) / 1e6)
    assert result.error is None and not result.truncated
    assert result.ttfb_s is not None and result.ttft_s is not None and result.total_s is not None
    assert 0 <= result.ttfb_s <= result.ttft_s <= result.total_s


async def test_request_body_and_auth_header(http, monkeypatch):
    monkeypatch.setenv("VV_TEST_KEY", "sk-test-abcdefghijklmnop123")
    monkeypatch.setenv("VV_TEST_ORG", "org-42")
    async with FakeProvider([Stream(simple_stream(["x"]))]) as fake:
        await run(
            fake,
            http,
            probe(seed=10, top_logprobs=5, temperature=0.0),
            api_key_env="VV_TEST_KEY",
            headers={"X-Org": "${VV_TEST_ORG}"},
        )
        request = fake.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-abcdefghijklmnop123"
    assert request.headers["x-org"] == "org-42"
    body = json.loads(request.body)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["seed"] == 10 and body["temperature"] == 0.0


async def test_no_auth_header_without_key_env(http):
    async with FakeProvider([Stream(simple_stream(["x"]))]) as fake:
        await run(fake, http)
        assert "authorization" not in fake.requests[0].headers


async def test_first_token_is_not_the_role_chunk_and_ttft_is_taken_at_arrival(http):
    # The role-only chunk comes at once; the first real token 200 ms later.
    parts = simple_stream(["a", "b", "c"], first_delay=0.2)
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http)
    first_text = of(events, TextDelta)[0]
    headers = of(events, ResponseHeaders)[0]
    assert first_text.text == "a"
    assert first_text.t - headers.t >= 0.19
    assert result.ttft_s >= 0.19
    assert result.ttfb_s < result.ttft_s


async def test_tokens_per_s_counts_tokens_after_the_first(http):
    parts = simple_stream(["a", "b", "c", "d", "e"], gap=0.05)
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http)
    texts = of(events, TextDelta)
    # 4 tokens after the first, over the time between first and last: only lower-bounded
    # gaps are guaranteed, so the rate can only be at most 4 / (4 * 0.05).
    assert result.tokens_per_s is not None
    assert result.tokens_per_s <= 4 / (texts[-1].t - texts[0].t) + 1e-9
    assert result.tokens_per_s <= 20.5
    assert result.output_tokens == 5 and result.usage_estimated and "no_usage" in result.flags


async def test_comment_lines_and_crlf_are_ignored(http):
    parts = [
        b": OPENROUTER PROCESSING\r\n\r\n",
        sse(chunk("", role="assistant")).replace(b"\n", b"\r\n"),
        b": keep-alive\n\n",
        sse(chunk("ok")),
        sse(chunk(None, finish="stop")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        _events, result = await run(fake, http)
    assert result.text == "ok" and result.error is None
    assert "malformed_chunks" not in result.flags


async def test_line_separator_inside_content_does_not_split_the_chunk(http):
    text = "a\u2028b\u2029c\x85d"
    async with FakeProvider([Stream(simple_stream([text, "!"]))]) as fake:
        _events, result = await run(fake, http)
    assert result.text == text + "!"
    assert result.error is None and "malformed_chunks" not in result.flags


async def test_chunk_split_across_network_reads_and_mid_utf8(http):
    whole = sse(chunk("héllo wörld ✓"))
    pieces = [whole[:7], Pause(0.01), whole[7:20], Pause(0.01), whole[20:]]
    parts = [sse(chunk("", role="assistant")), *pieces, sse(chunk(None, finish="stop")), DONE]
    async with FakeProvider([Stream(parts)]) as fake:
        _, result = await run(fake, http)
    assert result.text == "héllo wörld ✓"
    assert "invalid_utf8" not in result.flags


async def test_logprobs_with_null_bytes_floor_values_and_fewer_alternatives(http):
    entries = [
        lp("The", -0.01, alts=5),
        lp(" cat", -9999.0, alts=2),  # fewer alternatives than the 5 asked
        {"token": " sat", "logprob": -0.5, "bytes": None, "top_logprobs": []},
    ]
    parts = [
        sse(chunk("", role="assistant")),
        sse(chunk("The", logprobs=entries[:1])),
        sse(chunk(" cat sat", logprobs=entries[1:])),
        sse(chunk(None, finish="stop")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        _events, result = await run(fake, http, probe(top_logprobs=5))
    tokens = result.tokens
    assert tokens is not None
    assert tokens.text == ["The", " cat", " sat"]
    assert tokens.logprob == [-0.01, -9999.0, -0.5]
    assert tokens.bytes is not None and tokens.bytes[0] == list(b"The") and tokens.bytes[2] is None
    assert tokens.top is not None
    assert [len(row) for row in tokens.top] == [5, 2, 0]
    assert tokens.top[0][0] == ("The", -0.01)
    # Three logprob entries but two deltas: output counted from the entries.
    assert result.output_tokens == 3
    # Token strings are interned (memory over 8000 results).
    assert tokens.text[0] is tokens.top[0][0][0]


async def test_tool_calls_accumulate_from_fragments_across_indices(http):
    def frag(index, *, id=None, name=None, args=None):
        call = {"index": index, "type": "function", "function": {}}
        if id:
            call["id"] = id
        if name:
            call["function"]["name"] = name
        if args is not None:
            call["function"]["arguments"] = args
        return sse(chunk(None, tool_calls=[call]))

    parts = [
        sse(chunk(None, role="assistant")),
        frag(0, id="call_a", name="get_weather", args=""),
        frag(0, args='{"city": '),
        frag(1, id="call_b", name="get_time", args='{"tz"'),
        frag(0, args='"Paris"}'),
        frag(1, args=': "UTC"}'),
        sse(chunk(None, finish="tool_calls")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http)
    assert result.finish_reason == "tool_calls"
    assert [(c.index, c.id, c.name) for c in result.tool_calls] == [
        (0, "call_a", "get_weather"),
        (1, "call_b", "get_time"),
    ]
    assert json.loads(result.tool_calls[0].arguments) == {"city": "Paris"}
    assert json.loads(result.tool_calls[1].arguments) == {"tz": "UTC"}
    first_tool = of(events, ToolCallDelta)[0]
    assert result.ttft_s == pytest.approx(first_tool.t - of(events, RequestSent)[0].t)


async def test_parallel_tool_calls_in_one_chunk(http):
    calls = [
        {"index": 0, "id": "c0", "function": {"name": "f", "arguments": "{}"}},
        {"index": 1, "id": "c1", "function": {"name": "g", "arguments": '{"x": 1}'}},
    ]
    parts = [sse(chunk(None, tool_calls=calls)), sse(chunk(None, finish="tool_calls")), DONE]
    async with FakeProvider([Stream(parts)]) as fake:
        _, result = await run(fake, http)
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("f", "{}"), ("g", '{"x": 1}')]


async def test_reasoning_is_kept_apart_from_the_answer(http):
    parts = [
        sse(chunk("", role="assistant")),
        sse(chunk(None, reasoning="Let me think. ")),
        sse(chunk(None, reasoning="Two.", reasoning_key="reasoning")),
        sse(chunk("2")),
        sse(chunk(None, finish="stop")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http)
    assert result.reasoning == "Let me think. Two."
    assert result.text == "2"
    # The first token is the first reasoning delta.
    assert result.ttft_s == pytest.approx(
        of(events, ReasoningDelta)[0].t - of(events, RequestSent)[0].t
    )


@pytest.mark.parametrize("placement", ["empty_choices", "null_choices", "no_choices", "last"])
async def test_usage_placements(http, placement):
    usage = {"prompt_tokens": 11, "completion_tokens": 2}
    parts = [sse(chunk("", role="assistant")), sse(chunk("a")), sse(chunk("b"))]
    if placement == "last":
        parts.append(sse(chunk(None, finish="stop", usage=usage)))
    else:
        parts.append(sse(chunk(None, finish="stop")))
        tail = {"id": "x", "model": "m", "usage": usage}
        if placement == "empty_choices":
            tail["choices"] = []
        elif placement == "null_choices":
            tail["choices"] = None
        parts.append(sse(tail))
    parts.append(DONE)
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http)
    assert len(of(events, Usage)) == 1
    assert (result.input_tokens, result.output_tokens) == (11, 2)
    assert result.finish_reason == "stop" and result.error is None


async def test_usage_on_every_chunk_keeps_the_latest(http):
    parts = [sse(chunk("", role="assistant", usage={"prompt_tokens": 5, "completion_tokens": 0}))]
    for i, word in enumerate(["a", "b", "c"], start=1):
        parts.append(sse(chunk(word, usage={"prompt_tokens": 5, "completion_tokens": i})))
    parts.append(
        sse(chunk(None, finish="stop", usage={"prompt_tokens": 5, "completion_tokens": 3}))
    )
    parts.append(DONE)
    async with FakeProvider([Stream(parts)]) as fake:
        _, result = await run(fake, http)
    assert result.output_tokens == 3 and result.input_tokens == 5


async def test_usage_absent_is_estimated_with_the_counter(http):
    async with FakeProvider([Stream(simple_stream(["one ", "two ", "three"]))]) as fake:
        ep = endpoint_for(fake, price=Price(1.0, 1.0))
        p = probe()
        events = await collect(make_client(ep, http).stream(p))
    acc = Accumulator(ep, p, count_tokens=lambda s: len(s.split()))
    for e in events:
        acc.feed(e)
    result = acc.result()
    assert result.usage_estimated and "no_usage" in result.flags
    assert result.input_tokens == 2  # "Say hi"
    assert result.output_tokens == 3
    assert result.cost_usd == pytest.approx(5 / 1e6)


async def test_server_ignoring_stream_answers_json(http):
    completion = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "model": "m",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hi there",
                    "reasoning_content": "greet",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "logprobs": {"content": [lp("Hi"), lp(" there")]},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2},
    }
    async with FakeProvider([Body(200, json.dumps(completion))]) as fake:
        _events, result = await run(fake, http)
    assert "ignored_stream" in result.flags
    assert result.text == "Hi there" and result.reasoning == "greet"
    assert result.tokens is not None and result.tokens.text == ["Hi", " there"]
    assert [c.name for c in result.tool_calls] == ["f"]
    assert result.system_fingerprint == "fp_1"
    assert (result.input_tokens, result.output_tokens) == (4, 2)
    assert result.finish_reason == "stop" and result.error is None


async def test_json_answer_without_content_type_is_sniffed(http):
    completion = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}
    async with FakeProvider([Body(200, json.dumps(completion), content_type="text/plain")]) as fake:
        _, result = await run(fake, http)
    assert result.text == "ok" and result.error is None


async def test_sse_without_content_type_is_sniffed(http):
    parts = simple_stream(["ok"])
    async with FakeProvider([Stream(parts, content_type="application/octet-stream")]) as fake:
        _, result = await run(fake, http)
    assert result.text == "ok" and result.error is None


async def test_model_mismatch_flag_names_both_models(http):
    parts = simple_stream(["x"], model="llama-3-8b-q2")
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http, model="llama-3-70b")
    flag = [e for e in of(events, Flag) if e.name == "model_mismatch"]
    assert len(flag) == 1
    assert "llama-3-70b" in flag[0].detail and "llama-3-8b-q2" in flag[0].detail
    assert "model_mismatch" in result.flags
    assert result.model_answered == "llama-3-8b-q2"


async def test_dated_model_suffix_is_not_a_mismatch(http):
    parts = simple_stream(["x"], model="gpt-4o-2024-08-06")
    async with FakeProvider([Stream(parts)]) as fake:
        _, result = await run(fake, http, model="gpt-4o")
    assert "model_mismatch" not in result.flags


async def test_meta_carries_provider_and_fingerprint(http):
    parts = [
        sse(chunk("", role="assistant", provider="Groq", system_fingerprint="fp_9")),
        sse(chunk("x", provider="Groq", system_fingerprint="fp_9")),
        sse(chunk(None, finish="stop", provider="Groq")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(fake, http)
    metas = of(events, Meta)
    assert len(metas) == 1  # emitted when something changes, not per chunk
    assert result.upstream_provider == "Groq" and result.system_fingerprint == "fp_9"


async def test_mid_stream_error_chunk_is_an_api_failure_with_partial_answer(http):
    parts = [
        sse(chunk("", role="assistant")),
        sse(chunk("Partial answ")),
        sse(
            {
                "id": "x",
                "model": "m",
                "error": {"code": "server_error", "message": "Provider disconnected"},
                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            }
        ),
    ]
    async with FakeProvider([Stream(parts, then="hang")]) as fake:
        events, result = await run(fake, http)
    failed = of(events, Failed)
    assert len(failed) == 1 and failed[0].partial
    assert failed[0].error.kind == "api"
    assert "Provider disconnected" in failed[0].error.message
    assert not of(events, Finish)
    assert result.text == "Partial answ" and result.truncated
    assert result.error is not None and result.error.kind == "api"


async def test_event_error_with_json_body(http):
    parts = [
        sse(chunk("", role="assistant")),
        sse({"error": {"message": "overloaded", "type": "overloaded_error"}}, event="error"),
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        _events, result = await run(fake, http)
    assert result.error is not None and result.error.kind == "api"
    assert "overloaded" in result.error.message and not result.truncated


async def test_breaking_out_early_closes_the_response(http):
    import asyncio
    import contextlib

    parts = [sse(chunk("", role="assistant")), sse(chunk("a")), Pause(5.0), sse(chunk("b"))]
    async with FakeProvider([Stream(parts)]) as fake:
        client = make_client(endpoint_for(fake, stall_timeout_s=10.0), http)
        seen = []
        async with asyncio.timeout(3.0):
            async with contextlib.aclosing(client.stream(probe())) as events:
                async for event in events:
                    seen.append(event)
                    if isinstance(event, TextDelta):
                        break
        assert seen[-1].text == "a"
        # The connection was closed and left the pool rather than stay open mid-stream.
        transport = http._transport_for_url(http.build_request("GET", fake.base_url).url)
        assert transport._pool.connections == []


async def test_cancelling_the_consumer_task_closes_promptly(http):
    import asyncio

    parts = [sse(chunk("", role="assistant")), sse(chunk("a")), Pause(5.0)]
    async with FakeProvider([Stream(parts, then="hang")]) as fake:
        client = make_client(endpoint_for(fake, stall_timeout_s=10.0), http)
        got_token = asyncio.Event()

        async def consume():
            async for event in client.stream(probe()):
                if isinstance(event, TextDelta):
                    got_token.set()

        task = asyncio.create_task(consume())
        async with asyncio.timeout(3.0):
            await got_token.wait()
        task.cancel()
        async with asyncio.timeout(1.0):
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_many_concurrent_streams_share_one_client():
    import asyncio

    def choose(request):
        n = request.json()["messages"][0]["content"]
        return Stream(
            simple_stream(
                [f"answer {n}"], usage={"prompt_tokens": 1, "completion_tokens": 2}, gap=0.01
            )
        )

    from tests.fakes import Dynamic

    async with FakeProvider([Dynamic(choose)]) as fake, new_http_client(max_connections=8) as http:
        ep = endpoint_for(fake)
        client = make_client(ep, http)

        async def one(i):
            p = probe(id=f"p{i}", messages=[{"role": "user", "content": str(i)}])
            acc = Accumulator(ep, p)
            for event in await collect(client.stream(p)):
                acc.feed(event)
            return acc.result()

        async with asyncio.timeout(10):
            results = await asyncio.gather(*(one(i) for i in range(24)))
    assert [r.text for r in results] == [f"answer {i}" for i in range(24)]
    assert all(r.error is None and r.attempts == 1 for r in results)
