"""Pure parts of the clients: SSE decoding, chunk parsing, failure text, retry maths; plus
hypothesis fuzzing of everything a server can put on the wire."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vvtui.clients.anthropic import AnthropicStreamParser
from vvtui.clients.events import Failed, Finish, TextDelta
from vvtui.clients.failures import http_error, is_dns_failure, one_line, strip_markup
from vvtui.clients.openai import OpenAIStreamParser
from vvtui.clients.parser import same_model
from vvtui.clients.retry import RetryPolicy, parse_retry_after, status_is_retryable
from vvtui.clients.sse import ServerSentEvent, SSEReader
from vvtui.redact import REDACTED

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Structured wire fuzzing generates large nested values; fewer examples keep it to seconds.
FUZZ_WIRE = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def events_of(data: bytes, cuts: list[int]) -> list[tuple[str, str]]:
    reader = SSEReader()
    out = []
    last = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        out += reader.feed(data[last:cut])
        last = max(last, cut)
    out += reader.close()
    return [(e.event, e.data) for e in out]


# ---- SSE


def test_sse_splits_only_on_cr_lf():
    data = 'data: {"a": "x\u2028y\u2029z\x85w\x0cv"}\r\n\r\ndata: 2\r\rdata: 3\n\n'.encode()
    assert [d for _, d in events_of(data, [])] == ['{"a": "x\u2028y\u2029z\x85w\x0cv"}', "2", "3"]


def test_sse_comments_bom_event_names_and_garbage():
    reader = SSEReader()
    events = reader.feed(b"\xef\xbb\xbf: hello\n\nevent: error\ndata: x\n\njunk line\n\ndata:y\n\n")
    assert [(e.event, e.data) for e in events] == [("error", "x"), ("message", "y")]
    assert reader.bad_lines == 1


def test_sse_last_event_without_blank_line_is_delivered():
    assert events_of(b"data: 1\n\ndata: 2", []) == [("message", "1"), ("message", "2")]


def test_sse_counts_invalid_utf8_across_reads():
    reader = SSEReader()
    reader.feed(b"data: a\xe2\x82")  # an incomplete euro sign...
    reader.feed(b"\xacb\xff\n\n")  # ...completed, then one invalid byte
    assert reader.invalid_utf8 == 1


@FUZZ
@given(st.binary(max_size=400), st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_sse_decoding_does_not_depend_on_read_boundaries(data, cuts):
    assert events_of(data, cuts) == events_of(data, [])


# ---- chunk parsing


def sse_event(data: str, event: str = "") -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data)


def parser() -> OpenAIStreamParser:
    return OpenAIStreamParser(model_asked="m", max_output_bytes=10_000)


def test_done_inside_a_multi_line_event():
    p = parser()
    data = '{"choices":[{"delta":{"content":"a"}}]}\n{"choices":[{"delta":{"content":"b"}}]}'
    out = p.feed_event(sse_event(data + "\n[DONE]"), 1.0)
    assert [e.text for e in out if isinstance(e, TextDelta)] == ["a", "b"]
    assert p.terminal


def test_odd_shapes_are_counted_not_fatal():
    p = parser()
    for data in ['"a string"', "[1, 2]", '{"choices": "nope"}', '{"choices": [{"delta": 5}]}']:
        p.feed_event(sse_event(data), 1.0)
    assert p.malformed == 3  # a delta of 5 is ignored, not malformed
    tail = p.close(2.0)
    assert isinstance(tail[-1], Failed) and tail[-1].error.kind == "protocol"


def test_tool_fragments_without_index_follow_their_id():
    p = parser()
    frags = [
        {"id": "a", "function": {"name": "f", "arguments": "{"}},
        {"function": {"arguments": "}"}},
        {"id": "b", "function": {"name": "g", "arguments": "[]"}},
    ]
    out = []
    for frag in frags:
        chunk = {"choices": [{"delta": {"tool_calls": [frag]}}]}
        out += p.feed_event(sse_event(json.dumps(chunk)), 1.0)
    assert [(e.index, e.name, e.arguments) for e in out] == [
        (0, "f", "{"),
        (0, None, "}"),
        (1, "g", "[]"),
    ]


def test_non_finite_logprobs_become_finite():
    p = parser()
    data = (
        '{"choices":[{"delta":{"content":"a"},"logprobs":{"content":[{"token":"a",'
        '"logprob":-Infinity,"top_logprobs":[{"token":"a","logprob":NaN}]}]}}]}'
    )
    (event,) = [e for e in p.feed_event(sse_event(data), 1.0) if isinstance(e, TextDelta)]
    assert event.tokens[0].logprob == -9999.0 and event.tokens[0].top == []


# ---- models, failures, retries


def test_same_model_rule():
    assert same_model("gpt-4o", "gpt-4o-2024-08-06")
    assert same_model("moonshotai/kimi-k2", "moonshotai/kimi-k2-0905")
    assert same_model("moonshotai/kimi-k2-0905:nitro", "moonshotai/kimi-k2-0905")
    assert same_model("llama3.2", "llama3.2:latest")
    assert same_model("Qwen/Qwen3-8B", "qwen3-8b")
    assert same_model("models/llama-3-8b.gguf", "llama-3-8b")
    assert not same_model("llama-3-70b", "llama-3-8b")
    assert not same_model("kimi-k2", "kimi-k2-instruct")
    assert not same_model("vv-sim-8b", "vv-sim-1b")


@FUZZ
@given(st.text(max_size=40))
def test_same_model_is_reflexive(name):
    assert same_model(name, name)


def test_http_error_kinds():
    assert http_error(429, "", b"{}").kind == "rate_limited"
    assert http_error(500, "", b'{"error": {"message": "boom"}}').kind == "api"
    assert http_error(502, "", b"<html><title>Bad</title></html>", "text/html").kind == "http"
    unsupported = http_error(400, "", b'{"error": {"message": "logprobs is not supported"}}')
    assert unsupported.kind == "unsupported"
    assert http_error(400, "", b'{"detail": "Model does not support tools"}').kind == "unsupported"
    assert http_error(401, "", b'{"error": "unauthorized"}').message == "HTTP 401: unauthorized"


def test_strip_markup_prefers_title():
    assert strip_markup("<html><title>503 Oops</title><body><p>Try later</p></body>") == (
        "503 Oops: Try later"
    )


@FUZZ
@given(st.text(max_size=600))
def test_one_line_is_one_short_line(text):
    line = one_line(text)
    assert "\n" not in line and "\r" not in line and len(line) <= 240


def test_one_line_redacts_bearer_tokens_before_cutting():
    text = "x" * 230 + " Bearer abcdefghijklmnopqrstuvwxyz"
    assert "abcdefgh" not in one_line(text) and REDACTED not in one_line("plain")


def test_dns_detection_from_exception_chain():
    import socket

    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except OSError as inner:
            raise ConnectionError("connect failed") from inner
    except ConnectionError as exc:
        assert is_dns_failure(exc)
    assert not is_dns_failure(ConnectionRefusedError(111, "Connection refused"))


def test_retry_after_parsing():
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "-3"}) is None
    assert (
        parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0)
        == 10.0
    )
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_doubles_is_capped_and_jittered_down():
    policy = RetryPolicy(rng=random.Random(1))
    for n, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delay = policy.delay(n, None)
        assert 0.75 * base <= delay <= base
    assert policy.delay(1, 99.0) == 30.0 and policy.delay(1, 0.05) == 0.05
    assert not policy.allows(elapsed_s=55.0, delay_s=8.0, budget_s=60.0)


def test_retryable_statuses():
    assert all(status_is_retryable(s) for s in (408, 409, 429, 500, 503, 529))
    assert not any(status_is_retryable(s) for s in (400, 401, 403, 404, 422))
    assert not status_is_retryable(503, {"x-should-retry": "false"})
    assert status_is_retryable(400, {"x-should-retry": "true"})


# ---- fuzz: arbitrary wire input never escapes as an exception, and every stream closes once

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    ["content", "reasoning", "reasoning_content", "tool_calls", "role", "function_call"]
)
DELTA = st.dictionaries(KEYS, JSON, max_size=3)
CHOICE = st.fixed_dictionaries(
    {"delta": DELTA | JSON},
    optional={
        "index": st.integers(-1, 2) | JSON,
        "finish_reason": st.sampled_from([None, "stop", "length", "error", ""]) | JSON,
        "logprobs": JSON | st.fixed_dictionaries({"content": st.lists(JSON, max_size=3)}),
        "native_finish_reason": JSON,
        "stop_reason": JSON,
    },
)
CHUNK = st.fixed_dictionaries(
    {},
    optional={
        "choices": st.lists(CHOICE, max_size=2) | JSON,
        "usage": JSON,
        "model": JSON,
        "provider": JSON,
        "error": JSON,
        "timings": JSON,
    },
)
ANTHROPIC_EVENT = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop",
                "ping",
                "error",
            ]
        )
    },
    optional={
        "index": JSON,
        "delta": JSON | st.dictionaries(st.sampled_from(["type", "text", "partial_json"]), JSON),
        "content_block": JSON,
        "message": JSON,
        "usage": JSON,
        "error": JSON,
    },
)
WIRE_EVENT = st.one_of(
    st.text(max_size=60),
    JSON.map(lambda v: json.dumps(v)),
    CHUNK.map(lambda v: json.dumps(v)),
    ANTHROPIC_EVENT.map(lambda v: json.dumps(v)),
    st.just("[DONE]"),
)


def check_closes_once(p, events, ending):
    out = []
    for i, (name, data) in enumerate(events):
        out += p.feed_event(sse_event(data, name), float(i))
    tail = p.close(float(len(events)), ending, invalid_utf8=0)
    closing = [e for e in out + tail if isinstance(e, Finish | Failed)]
    assert len(closing) == 1 and closing[0] is tail[-1]
    if isinstance(closing[0], Failed):
        assert "\n" not in closing[0].error.message


ENDINGS = st.sampled_from(["eof", "stall", "dropped", "capped", "protocol"])
NAMES = st.sampled_from(["", "message", "error", "ping", "message_stop"])


@FUZZ_WIRE
@given(st.lists(st.tuples(NAMES, WIRE_EVENT), max_size=12), ENDINGS)
def test_fuzz_openai_parser(events, ending):
    check_closes_once(OpenAIStreamParser(model_asked="m", max_output_bytes=50), events, ending)


@FUZZ_WIRE
@given(st.lists(st.tuples(NAMES, WIRE_EVENT), max_size=12), ENDINGS)
def test_fuzz_anthropic_parser(events, ending):
    check_closes_once(AnthropicStreamParser(model_asked="m", max_output_bytes=50), events, ending)


@FUZZ_WIRE
@given(JSON | CHUNK)
def test_fuzz_whole_json_documents(doc):
    for p in (parser(), AnthropicStreamParser(model_asked="m", max_output_bytes=50)):
        out = p.feed_completion(doc, 1.0)
        tail = p.close(1.0)
        assert len([e for e in out + tail if isinstance(e, Finish | Failed)]) == 1


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_raw_bytes_through_reader_and_parser(data):
    reader = SSEReader()
    p = parser()
    out = []
    for event in reader.feed(data) + reader.close():
        out += p.feed_event(event, 0.0)
    p.malformed += reader.bad_lines
    tail = p.close(1.0, invalid_utf8=reader.invalid_utf8)
    assert isinstance(tail[-1], Finish | Failed)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.binary(max_size=80) | WIRE_EVENT.map(lambda d: f"data: {d}\n\n".encode()), max_size=6
    )
)
def test_fuzz_over_real_http(parts):
    """Whatever a server streams, the client ends with exactly one Finish or Failed."""
    import asyncio

    from tests.fakes import FakeProvider, Stream, collect, endpoint_for, probe
    from vvtui.clients import make_client, new_http_client

    async def go():
        async with new_http_client(trust_env=False) as http, FakeProvider([Stream(parts)]) as fake:
            ep = endpoint_for(fake, stall_timeout_s=0.5, max_retries=0)
            return await collect(make_client(ep, http).stream(probe()), limit_s=5.0)

    events = asyncio.run(go())
    closing = [e for e in events if isinstance(e, Finish | Failed)]
    assert len(closing) == 1 and closing[0] is events[-1]
