"""Each fault mode sends exactly what its docstring (vvtui.sim.server) promises."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.simtools import assemble, body, chunks, data_payloads, events, stream_raw, url
from vvtui.sim.faults import FAULTS, parse_fault
from vvtui.sim.hosts import HOST_FAULTS
from vvtui.sim.profiles import Profile

ANSWER = "The capital of Peru is Lima, a city of 10 million people."
HINTED = body("Capital of Peru?", vvtui_sim={"answer": ANSWER})


def fault(name: str) -> dict[str, str]:
    return {"x-vvtui-sim-fault": name}


@pytest.fixture
def client():
    with httpx.Client(timeout=httpx.Timeout(5.0)) as c:
        yield c


def test_fault_specs_parse():
    assert parse_fault("stall:5").n == 5
    assert parse_fault("rate_limit").n == 1
    assert parse_fault("oversized").n == 5  # megabytes
    assert parse_fault("none") is None and parse_fault(None) is None
    with pytest.raises(ValueError, match="unknown fault"):
        parse_fault("explode")
    with pytest.raises(ValueError):
        parse_fault("stall:x")


def test_unknown_fault_header_is_a_400(sim_server, client):
    r = client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("explode"))
    assert r.status_code == 400 and "unknown fault" in r.json()["error"]["message"]


def test_refuse_closes_without_a_byte(sim_server, client):
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("refuse"))


def test_hang_headers_never_answers(sim_server):
    with (
        httpx.Client(timeout=httpx.Timeout(5.0, read=0.3)) as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.post(url(sim_server, "fp8"), json=HINTED, headers=fault("hang_headers"))


def test_stall_sends_n_tokens_then_silence(sim_server):
    got = b""
    with httpx.Client(timeout=httpx.Timeout(5.0, read=0.4)) as c:
        payload = {**HINTED, "stream": True}
        with c.stream("POST", url(sim_server, "fp8"), json=payload, headers=fault("stall:4")) as r:
            assert r.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                for part in r.iter_raw():
                    got += part
    items = chunks(got)
    assert len(items) == 1 + 4  # role chunk + 4 tokens
    assert assemble(items).finish_reason is None
    assert not got.endswith(b"[DONE]\n\n")


@pytest.mark.parametrize(("name", "status"), [("rate_limit:2", 429), ("flaky_5xx:2", 503)])
def test_retryable_errors_then_success(sim_server, client, name, status):
    payload = body(f"retry me {name}", vvtui_sim={"answer": "ok then"})
    expected = client.post(url(sim_server, "fp8"), json=payload).json()
    for _ in range(2):
        r = client.post(url(sim_server, "fp8"), json=payload, headers=fault(name))
        assert r.status_code == status
        err = r.json()["error"]
        assert set(err) == {"message", "type", "param", "code"}
        if status == 429:
            assert err["code"] == "rate_limit_exceeded"
            assert r.headers["retry-after-ms"] == "5"  # 100 ms at speed 20
            assert r.headers["retry-after"] == "1"
    r = client.post(url(sim_server, "fp8"), json=payload, headers=fault(name))
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"] == expected["choices"][0]["message"]
    # The count starts over: the next identical request is refused again.
    assert client.post(url(sim_server, "fp8"), json=payload, headers=fault(name)).status_code == (
        status
    )


def test_plain_error_responses(sim_server, client):
    r = client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("http_500"))
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    r = client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("html_error"))
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"
    assert r.text.startswith("<html>") and "502 Bad Gateway" in r.text
    r = client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("text_error"))
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/plain")
    assert r.text == "Internal Server Error"
    r = client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("error_body"))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "context_length_exceeded"
    # The same faults hit streaming requests before any SSE starts.
    r, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("html_error"))
    assert r.status_code == 502 and b"nginx" in raw


def test_midstream_error_openrouter_shape(sim_server, client):
    r, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("midstream_error:3"))
    assert r.status_code == 200
    items = chunks(raw)
    assert b"[DONE]" not in raw
    last = items[-1]
    assert last["error"]["message"] and last["choices"][0]["finish_reason"] == "error"
    assert len([c for c in items[1:-1] if c["choices"][0]["delta"].get("content")]) == 3


def test_malformed_sse_keeps_the_good_chunks(sim_server, client):
    _, clean = stream_raw(client, url(sim_server, "fp8"), HINTED)
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("malformed_sse"))
    good, bad = [], []
    for payload in data_payloads(raw)[:-1]:  # the last is [DONE]
        try:
            good.append(json.loads(payload))
        except json.JSONDecodeError:
            bad.append(payload)
    assert len(bad) == 2 and bad[0].endswith(b'"delta":{"cont')
    assert b"<<garbage line without a field>>" in events(raw)
    assert raw.endswith(b"data: [DONE]\n\n")
    assert assemble(good).text == assemble(chunks(clean)).text == ANSWER


def test_invalid_utf8_inside_a_data_line(sim_server, client):
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("invalid_utf8"))
    bad = [e for e in events(raw) if b"\xff\xfe" in e]
    assert len(bad) == 1 and bad[0].startswith(b"data: {")
    with pytest.raises(UnicodeDecodeError):
        bad[0].decode("utf-8")
    text = json.loads(bad[0][6:].decode("utf-8", "replace"))["choices"][0]["delta"]["content"]
    assert text.endswith("\ufffd\ufffd")


def test_empty_choices_chunks(sim_server, client):
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("empty_choices"))
    items = chunks(raw)
    empty = [c for c in items if c["choices"] == []]
    assert len(empty) >= 2 and all("usage" not in c for c in empty)
    assert assemble(items).text == ANSWER


def test_no_done_ends_without_terminator(sim_server, client):
    r, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("no_done"))
    assert r.headers["connection"] == "close"
    assert b"[DONE]" not in raw
    out = assemble(chunks(raw))
    assert out.text == ANSWER and out.finish_reason is None


def test_drop_cuts_the_body(sim_server, client):
    got = b""
    payload = {**HINTED, "stream": True}
    with (
        client.stream("POST", url(sim_server, "fp8"), json=payload, headers=fault("drop:2")) as r,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        for part in r.iter_raw():
            got += part
    assert len(chunks(got)) == 1 + 2


def test_ignore_stream_answers_plain_json(sim_server, client):
    r, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("ignore_stream"))
    assert r.headers["content-type"] == "application/json"
    data = json.loads(raw)
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"]["content"] == ANSWER


def test_oversized_streams_megabytes(sim_server, client):
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("oversized:1"))
    out = assemble(chunks(raw))
    assert len(out.text) >= 1_000_000 and out.finish_reason == "length"
    assert raw.endswith(b"data: [DONE]\n\n")


def test_wrong_model_name(sim_server, client):
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("wrong_model"))
    assert assemble(chunks(raw)).models == {"vv-sim-3b-instruct"}
    r = client.post(url(sim_server, "fp8"), json=HINTED, headers=fault("wrong_model"))
    assert r.json()["model"] == "vv-sim-3b-instruct"


def test_comments_among_chunks(sim_server, client):
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("comments"))
    evs = events(raw)
    assert b": OPENROUTER PROCESSING" in evs and b": keep-alive" in evs
    assert assemble(chunks(raw)).text == ANSWER


def test_u2028_raw_inside_json(sim_server, client):
    _, raw = stream_raw(client, url(sim_server, "fp8"), HINTED, fault("u2028"))
    assert "\u2028".encode() in raw  # raw, not escaped as \\u2028
    out = assemble(chunks(raw))
    assert out.text.replace("\u2028", "") == ANSWER and out.text.count("\u2028") == 1


def test_echo_auth_quotes_the_credentials_back(sim_server, client):
    secret = {"Authorization": "Bearer sk-echo-test-0123456789", "X-Team-Token": "tok-5678"}
    for send in (client.post, None):
        if send is None:
            r, raw = stream_raw(
                client, url(sim_server, "fp8"), HINTED, {**fault("echo_auth"), **secret}
            )
            message = json.loads(raw)["error"]["message"]
        else:
            r = send(url(sim_server, "fp8"), json=HINTED, headers={**fault("echo_auth"), **secret})
            message = r.json()["error"]["message"]
        assert r.status_code == 401
        assert "Bearer sk-echo-test-0123456789" in message and "tok-5678" in message


def test_echo_stream_splits_the_credentials_across_tokens(sim_server, client):
    headers = {**fault("echo_stream"), "Authorization": "Bearer sk-echo-test-0123456789"}
    payload = {**HINTED, "logprobs": True}
    r, raw = stream_raw(client, url(sim_server, "fp8"), payload, headers)
    out = assemble(chunks(raw))
    assert r.status_code == 200 and out.finish_reason == "stop" and raw.endswith(b"[DONE]\n\n")
    assert "Bearer sk-echo-test-0123456789" in out.text
    assert all(len(t) <= 5 for t in out.tokens) and "".join(out.tokens) == out.text


def test_keepalive_forever_sends_comments_and_no_token(sim_server):
    seen = b""
    with (
        httpx.Client(timeout=httpx.Timeout(5.0)) as c,
        c.stream("POST", url(sim_server, "fp8"), json={**HINTED, "stream": True},
                 headers=fault("keepalive_forever")) as r,
    ):  # fmt: skip
        for part in r.iter_raw():
            seen += part
            if seen.count(b": keep-alive") >= 5:
                break
    assert r.status_code == 200
    assert assemble(chunks(seen)).text == "" and b"[DONE]" not in seen


def test_profile_fault_and_header_override(sim_server_factory, client):
    server = sim_server_factory([Profile("broken", "always 500", fault="http_500", ttft_s=0)])
    assert client.post(url(server, "broken"), json=HINTED).status_code == 500
    r = client.post(url(server, "broken"), json=HINTED, headers=fault("none"))
    assert r.status_code == 200


def test_every_fault_is_covered():
    tested = {
        "refuse", "hang_headers", "stall", "rate_limit", "flaky_5xx", "http_500", "html_error",
        "text_error", "error_body", "midstream_error", "malformed_sse", "invalid_utf8",
        "empty_choices", "no_done", "drop", "ignore_stream", "oversized", "wrong_model",
        "comments", "u2028", "echo_auth", "echo_stream", "keepalive_forever",
    }  # fmt: skip
    tested |= set(HOST_FAULTS)  # tests/test_conformance.py, each caught by a conformance check
    assert tested == set(FAULTS)
