"""Every fault becomes one clear, redacted Failed (or a Flag), never an exception or a hang."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.fakes import (
    DONE,
    Body,
    Drop,
    FakeProvider,
    Hang,
    Pause,
    Stream,
    chunk,
    collect,
    endpoint_for,
    probe,
    simple_stream,
    sse,
)
from vvtui.clients import make_client, new_http_client
from vvtui.clients.accumulate import Accumulator
from vvtui.clients.events import Failed, Finish, Flag, RequestSent, Retrying, TextDelta
from vvtui.clients.failures import connect_failure, is_connection_refused
from vvtui.clients.retry import RetryPolicy
from vvtui.config import EndpointConfig

FAST = RetryPolicy(base_s=0.01, max_s=0.04, retry_after_cap_s=0.2)
SECRET = "sk-abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture
async def http():
    async with new_http_client(max_connections=8) as client:
        yield client


async def run(ep, http, retry=FAST, the_probe=None):
    the_probe = the_probe or probe()
    events = await collect(make_client(ep, http, retry=retry).stream(the_probe))
    acc = Accumulator(ep, the_probe)
    for event in events:
        acc.feed(event)
    return events, acc.result()


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def only_failure(events):
    failed = of(events, Failed)
    assert len(failed) == 1, events
    assert isinstance(events[-1], Failed)
    assert "\n" not in failed[0].error.message
    return failed[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- before any response


async def test_connection_refused_is_retried_then_reported(http):
    ep = EndpointConfig(
        name="down", base_url=f"http://127.0.0.1:{closed_port()}/v1", model="m", max_retries=2
    )
    events, result = await run(ep, http)
    failure = only_failure(events)
    assert failure.error.kind == "connect" and not failure.partial
    assert "127.0.0.1" in failure.error.message
    assert "connection refused — is the server running? (after 3 attempts)" in (
        failure.error.message
    )
    assert len(of(events, RequestSent)) == 3 and len(of(events, Retrying)) == 2
    assert result.attempts == 3 and result.error.kind == "connect"


def test_refused_connections_are_told_apart_from_other_connect_failures():
    def chained(outer: BaseException, inner: BaseException) -> BaseException:
        outer.__cause__ = inner
        return outer

    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
    wrapped = chained(OSError("All connection attempts failed"), refused)
    assert is_connection_refused(wrapped)
    # localhost: both ::1 and 127.0.0.1 refused, or one refused and one unreachable.
    both = ExceptionGroup("attempts", [refused, ConnectionRefusedError(111, "::1")])
    assert is_connection_refused(chained(OSError("All connection attempts failed"), both))
    mixed = ExceptionGroup("attempts", [refused, OSError(101, "Network is unreachable")])
    assert not is_connection_refused(mixed)
    assert not is_connection_refused(ConnectionResetError(104, "Connection reset by peer"))

    error = connect_failure("127.0.0.1:9", wrapped)
    assert (error.kind, error.message) == (
        "connect",
        "cannot connect to 127.0.0.1:9: connection refused — is the server running?",
    )
    other = connect_failure("10.0.0.1:80", OSError(113, "No route to host"))
    assert other.kind == "connect" and "No route to host" in other.message
    assert "is the server running" not in other.message


async def test_dns_failure_is_not_retried(http):
    ep = EndpointConfig(
        name="nx", base_url="http://no-such-host.invalid/v1", model="m", timeout_s=5.0
    )
    events, _ = await run(ep, http)
    failure = only_failure(events)
    assert failure.error.kind == "dns"
    assert "no-such-host.invalid" in failure.error.message
    assert not of(events, Retrying)


async def test_no_headers_within_timeout(http):
    async with FakeProvider([Hang(10.0)]) as fake:
        events, _ = await run(endpoint_for(fake, timeout_s=0.3), http)
    failure = only_failure(events)
    assert failure.error.kind == "timeout" and "0.3" in failure.error.message
    assert not of(events, Retrying)


async def test_connection_closed_before_response_is_retried(http):
    async with FakeProvider([Drop(), Stream(simple_stream(["ok"]))]) as fake:
        events, result = await run(endpoint_for(fake), http)
    assert result.text == "ok" and result.error is None
    assert result.attempts == 2 and len(of(events, Retrying)) == 1


# ---- mid-stream


async def test_stall_mid_answer_fails_partial(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("Hello")), Pause(10.0)]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(endpoint_for(fake, stall_timeout_s=0.3), http)
    failure = only_failure(events)
    assert failure.error.kind == "stall" and failure.partial
    assert result.text == "Hello" and result.truncated
    assert result.total_s >= 0.29


async def test_stall_before_the_first_byte_is_not_partial(http):
    async with FakeProvider([Stream([Pause(10.0)])]) as fake:
        events, result = await run(endpoint_for(fake, stall_timeout_s=0.3), http)
    failure = only_failure(events)
    assert failure.error.kind == "stall" and not failure.partial
    assert not result.truncated


async def test_keepalive_comments_are_bytes_so_no_stall(http):
    parts = [sse(chunk("", role="assistant"))]
    for _ in range(4):
        parts += [Pause(0.15), b": keep-alive\n\n"]
    parts += [sse(chunk("late")), sse(chunk(None, finish="stop")), DONE]
    async with FakeProvider([Stream(parts)]) as fake:
        _, result = await run(endpoint_for(fake, stall_timeout_s=0.4), http)
    assert result.error is None and result.text == "late"


async def test_dropped_connection_mid_answer(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("Hel"))]
    async with FakeProvider([Stream(parts, then="drop")]) as fake:
        events, result = await run(endpoint_for(fake), http)
        assert len(fake.requests) == 1  # never retried once a token arrived
    failure = only_failure(events)
    assert failure.error.kind == "dropped" and failure.partial
    assert result.text == "Hel" and result.truncated


async def test_stream_without_done_or_finish_reason(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("Hel"))]
    async with FakeProvider([Stream(parts)]) as fake:  # a proper end of body, no [DONE]
        events, result = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.kind == "protocol" and failure.partial
    assert "stream ended without finish_reason" in failure.error.message
    assert result.truncated


async def test_finish_reason_without_done_is_complete(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("ok")), sse(chunk(None, finish="stop"))]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(endpoint_for(fake), http)
    assert isinstance(events[-1], Finish) and result.error is None and result.text == "ok"


async def test_connection_close_delimited_body_without_end(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("x"))]
    async with FakeProvider([Stream(parts, chunked=False)]) as fake:
        events, _ = await run(endpoint_for(fake), http)
    assert only_failure(events).error.kind == "protocol"


async def test_isolated_garbage_is_tolerated_and_flagged(http):
    parts = [
        sse(chunk("", role="assistant")),
        sse(chunk("a")),
        b"this is not sse\n\n",
        b'data: {"choices": [{"delta": {"content": "trunc\n\n',
        sse(chunk("b")),
        sse(chunk("c")),
        sse(chunk(None, finish="stop")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(endpoint_for(fake), http)
    assert result.error is None and result.text == "abc"
    flag = [f for f in of(events, Flag) if f.name == "malformed_chunks"]
    assert len(flag) == 1 and flag[0].detail.startswith("2 ")
    assert "malformed_chunks" in result.flags


async def test_mostly_garbage_stream_fails_as_protocol(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("a"))]
    parts += [b"data: {broken\n\n"] * 5
    parts += [sse(chunk(None, finish="stop")), DONE]
    async with FakeProvider([Stream(parts)]) as fake:
        events, _ = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.kind == "protocol" and "malformed" in failure.error.message


async def test_truncated_json_at_the_end(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("a")), b'data: {"choices": [{"del']
    async with FakeProvider([Stream(parts)]) as fake:
        events, _ = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.kind == "protocol" and failure.partial
    assert "malformed" in failure.error.message


async def test_invalid_utf8_is_replaced_and_flagged(http):
    bad = b'data: {"choices": [{"index": 0, "delta": {"content": "ok\xff\xfe!"}}]}\n\n'
    parts = [sse(chunk("", role="assistant")), bad, sse(chunk(None, finish="stop")), DONE]
    async with FakeProvider([Stream(parts)]) as fake:
        _, result = await run(endpoint_for(fake), http)
    assert result.error is None
    assert result.text.startswith("ok") and "\ufffd" in result.text
    assert "invalid_utf8" in result.flags


async def test_literal_replacement_character_is_not_flagged(http):
    async with FakeProvider([Stream(simple_stream(["a\ufffdb"]))]) as fake:
        _, result = await run(endpoint_for(fake), http)
    assert result.text == "a\ufffdb" and "invalid_utf8" not in result.flags


async def test_oversized_answer_is_capped(http):
    words = [f"word{i} " for i in range(200)]
    parts = simple_stream(words)
    async with FakeProvider([Stream(parts, then="hang")]) as fake:
        events, result = await run(endpoint_for(fake, max_output_bytes=100), http)
    assert isinstance(events[-1], Finish)
    assert events[-1].reason == "length"
    assert "output_capped" in result.flags and result.truncated and result.error is None
    assert 100 < len(result.text.encode()) <= 100 + len(words[-1]) + 4


async def test_body_that_never_ends_after_done_does_not_hang(http):
    async with FakeProvider([Stream(simple_stream(["ok"]), then="hang")]) as fake:
        events, result = await run(endpoint_for(fake, stall_timeout_s=5.0), http)
    assert isinstance(events[-1], Finish) and result.text == "ok"


# ---- HTTP errors and retries


async def test_429_honours_retry_after_ms(http):
    script = [
        Body(429, '{"error": {"message": "slow down"}}', headers={"retry-after-ms": "50"}),
        Stream(simple_stream(["ok"])),
    ]
    async with FakeProvider(script) as fake:
        events, result = await run(endpoint_for(fake), http)
    retrying = of(events, Retrying)
    assert len(retrying) == 1 and retrying[0].delay_s == pytest.approx(0.05)
    assert retrying[0].attempt == 1
    assert result.text == "ok" and result.attempts == 2
    assert result.extra["retries"][0]["delay_s"] == pytest.approx(0.05)


async def test_retry_after_is_capped(http):
    script = [
        Body(429, "busy", "text/plain", {"retry-after": "3600"}),
        Stream(simple_stream(["ok"])),
    ]
    async with FakeProvider(script) as fake:
        events, _ = await run(endpoint_for(fake), http)
    assert [r.delay_s for r in of(events, Retrying)] == [pytest.approx(0.2)]


async def test_retry_after_beyond_the_budget_is_not_waited_for(http):
    policy = RetryPolicy(base_s=0.01, max_s=0.04, retry_after_cap_s=30.0, budget_s=1.0)
    script = [Body(429, '{"error": {"message": "later"}}', headers={"retry-after": "20"})]
    async with FakeProvider(script) as fake:
        events, _result = await run(endpoint_for(fake), http, retry=policy)
        assert len(fake.requests) == 1
    failure = only_failure(events)
    assert failure.error.kind == "rate_limited" and failure.error.status == 429
    assert not of(events, Retrying)


async def test_5xx_backoff_is_bounded_and_retries_are_limited(http):
    async with FakeProvider([Body(503, '{"error": {"message": "overloaded"}}')]) as fake:
        events, result = await run(endpoint_for(fake, max_retries=3), http)
        assert len(fake.requests) == 4
    delays = [r.delay_s for r in of(events, Retrying)]
    assert len(delays) == 3
    assert all(0 < d <= FAST.max_s for d in delays)
    failure = only_failure(events)
    assert failure.error.status == 503 and "overloaded" in failure.error.message
    assert "after 4 attempts" in failure.error.message
    assert result.attempts == 4


@pytest.mark.parametrize("status", [408, 409, 500, 502])
async def test_retryable_statuses(http, status):
    async with FakeProvider([Body(status, "{}"), Stream(simple_stream(["ok"]))]) as fake:
        _, result = await run(endpoint_for(fake), http)
    assert result.attempts == 2 and result.text == "ok"


async def test_400_is_not_retried(http):
    body = '{"error": {"message": "bad field", "type": "invalid_request_error"}}'
    async with FakeProvider([Body(400, body)]) as fake:
        events, _ = await run(endpoint_for(fake), http)
        assert len(fake.requests) == 1
    failure = only_failure(events)
    assert failure.error.kind == "api" and failure.error.status == 400
    assert "bad field" in failure.error.message


async def test_x_should_retry_false_overrides(http):
    script = [Body(503, "{}", headers={"x-should-retry": "false"})]
    async with FakeProvider(script) as fake:
        await run(endpoint_for(fake), http)
        assert len(fake.requests) == 1


async def test_html_error_page_is_stripped_to_a_line(http):
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title>"
        "<style>body{color:red}</style><script>var x = 1;</script></head>"
        "<body><h1>Bad Gateway</h1><p>The upstream &amp; friends\nare down.</p></body></html>"
    )
    async with FakeProvider([Body(502, page, "text/html")]) as fake:
        events, _ = await run(endpoint_for(fake, max_retries=0), http)
    failure = only_failure(events)
    assert failure.error.kind == "http" and failure.error.status == 502
    message = failure.error.message
    assert message.startswith("HTTP 502")
    assert "<" not in message and "color:red" not in message and "var x" not in message
    assert "upstream & friends are down" in message


async def test_plain_text_error(http):
    async with FakeProvider([Body(404, "404 page not found", "text/plain")]) as fake:
        events, _ = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.kind == "http" and "404 page not found" in failure.error.message


async def test_secret_echoed_by_the_server_never_appears(http, monkeypatch):
    monkeypatch.setenv("VV_FAULT_KEY", SECRET)
    body = '{"error": {"message": "invalid key in header: {AUTH}"}}'
    async with FakeProvider([Body(401, body)], echo_auth=True) as fake:
        events, result = await run(endpoint_for(fake, api_key_env="VV_FAULT_KEY"), http)
        assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    failure = only_failure(events)
    assert SECRET not in failure.error.message and SECRET[:20] not in failure.error.message
    assert "REDACTED" in failure.error.message
    assert SECRET not in repr(result.to_dict())


async def test_secret_echoed_in_an_html_page_is_redacted_before_cutting(http, monkeypatch):
    monkeypatch.setenv("VV_FAULT_KEY2", SECRET)
    page = "<html><body>" + "x" * 140 + " header was {AUTH}</body></html>"
    async with FakeProvider([Body(403, page, "text/html")], echo_auth=True) as fake:
        events, _ = await run(endpoint_for(fake, api_key_env="VV_FAULT_KEY2"), http)
    message = only_failure(events).error.message
    assert "sk-abcdef" not in message


async def test_missing_key_fails_without_sending(http, monkeypatch):
    monkeypatch.delenv("VV_UNSET_KEY", raising=False)
    async with FakeProvider([Body(200, '{"choices": []}')]) as fake:
        events, result = await run(endpoint_for(fake, api_key_env="VV_UNSET_KEY"), http)
        assert fake.requests == []  # never sent: a lenient server must not answer keyless
    failure = only_failure(events)
    assert failure.error.kind == "config" and not of(events, RequestSent)
    assert (
        "$VV_UNSET_KEY" in failure.error.message and "export VV_UNSET_KEY" in failure.error.message
    )
    assert result.error.kind == "config"


async def test_missing_header_variable_fails_without_sending(http, monkeypatch):
    monkeypatch.delenv("VV_UNSET_HEADER", raising=False)
    async with FakeProvider([Body(200, '{"choices": []}')]) as fake:
        ep = endpoint_for(fake, headers={"X-Team": "team ${VV_UNSET_HEADER}"})
        events, _ = await run(ep, http)
        assert fake.requests == []
    failure = only_failure(events)
    assert failure.error.kind == "config" and "${VV_UNSET_HEADER}" in failure.error.message


async def test_redirect_names_the_target(http):
    script = [Body(301, "", "text/plain", {"Location": "http://elsewhere/v1/chat/completions"})]
    async with FakeProvider(script) as fake:
        events, _ = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.status == 301 and "elsewhere" in failure.error.message


async def test_no_retry_after_tokens_even_on_retryable_trouble(http):
    parts = [sse(chunk("", role="assistant")), sse(chunk("tok")), Pause(5.0)]
    async with FakeProvider([Stream(parts), Stream(simple_stream(["second"]))]) as fake:
        events, result = await run(endpoint_for(fake, stall_timeout_s=0.2), http)
        assert len(fake.requests) == 1
    assert not of(events, Retrying)
    assert of(events, TextDelta)[-1].text == "tok"
    assert result.truncated and result.error.kind == "stall"


async def test_loopback_bypasses_environment_proxies(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with new_http_client() as http, FakeProvider([Stream(simple_stream(["ok"]))]) as fake:
        _, result = await run(endpoint_for(fake), http)
    assert result.text == "ok"


async def test_every_fault_ends_quickly():
    """A global bound: faults with small timeouts never wait on their own defaults."""
    async with new_http_client() as http, FakeProvider([Hang(30.0)]) as fake:
        async with asyncio.timeout(3.0):
            events, _ = await run(endpoint_for(fake, timeout_s=0.2), http)
    assert only_failure(events).error.kind == "timeout"


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/plain"])
async def test_200_with_a_page_instead_of_a_stream(http, content_type):
    page = "<html><head><title>Captive portal</title></head><body>Log in first</body></html>"
    async with FakeProvider([Body(200, page, content_type)]) as fake:
        events, _result = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.kind == "protocol" and not failure.partial
    assert "expected an event stream" in failure.error.message
    assert "Captive portal" in failure.error.message and "<" not in failure.error.message


async def test_endless_body_without_an_answer_is_cut_at_the_raw_cap(http):
    filler = b": " + b"x" * 8190 + b"\n"
    parts = [sse(chunk("", role="assistant"))] + [filler] * 140  # ~1.1 MB of comments
    async with FakeProvider([Stream(parts, then="hang")]) as fake:
        events, _ = await run(endpoint_for(fake, max_output_bytes=10), http)
    failure = only_failure(events)
    assert failure.error.kind == "protocol" and "size cap" in failure.error.message


async def test_finish_reason_error_without_error_object_is_a_failure(http):
    parts = [
        sse(chunk("", role="assistant")),
        sse(chunk("a")),
        sse(chunk(None, finish="error")),
        DONE,
    ]
    async with FakeProvider([Stream(parts)]) as fake:
        events, result = await run(endpoint_for(fake), http)
    failure = only_failure(events)
    assert failure.error.kind == "api" and failure.partial and result.truncated


async def test_unencodable_body_fails_without_sending(http):
    async with FakeProvider([Stream(simple_stream(["x"]))]) as fake:
        events, result = await run(
            endpoint_for(fake), http, the_probe=probe(temperature=float("nan"))
        )
        assert fake.requests == []
    failure = only_failure(events)
    assert failure.error.kind == "internal" and "JSON" in failure.error.message
    assert result.error.kind == "internal" and result.ttfb_s is None
