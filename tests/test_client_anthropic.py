"""The Anthropic Messages client: request shape, stream grammar, errors."""

from __future__ import annotations

import json

import pytest

from tests import recordings as rec
from tests.fakes import Body, FakeProvider, Stream, collect, endpoint_for, probe
from vvtui.clients import make_client, new_http_client
from vvtui.clients.accumulate import Accumulator
from vvtui.clients.anthropic import AnthropicClient
from vvtui.clients.events import Failed, ReasoningDelta, TextDelta, ToolCallDelta
from vvtui.clients.request import build_anthropic_body
from vvtui.config import EndpointConfig

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture
async def http():
    async with new_http_client(max_connections=4) as client:
        yield client


async def replay(http, script, the_probe=None, **endpoint):
    async with FakeProvider(script) as fake:
        ep = endpoint_for(fake, protocol="anthropic", model="claude-sonnet-4-5", **endpoint)
        client = make_client(ep, http)
        assert isinstance(client, AnthropicClient)
        the_probe = the_probe or probe()
        events = await collect(client.stream(the_probe))
        requests = list(fake.requests)
    acc = Accumulator(ep, the_probe)
    for event in events:
        acc.feed(event)
    return events, acc.result(), requests


def test_body_lifts_system_and_converts_tools():
    ep = EndpointConfig(name="a", base_url="http://x", model="claude", protocol="anthropic")
    p = probe(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
        ],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=None,
        seed=3,
        top_logprobs=5,
    )
    body = build_anthropic_body(p, ep)
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "Weather in Paris?"}]
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": TOOLS[0]["function"]["parameters"],
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert body["max_tokens"] > 0 and body["stream"] is True
    for absent in ("seed", "logprobs", "top_logprobs", "stream_options"):
        assert absent not in body


def test_body_converts_tool_history():
    ep = EndpointConfig(name="a", base_url="http://x", model="claude", protocol="anthropic")
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    p = probe(
        messages=[
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ]
    )
    body = build_anthropic_body(p, ep)
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}}
    ]
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "42"}],
    }


async def test_stream_with_thinking_text_and_tool_use(http, monkeypatch):
    monkeypatch.setenv("VV_ANTHROPIC_KEY", "sk-ant-test-0123456789abcdefghij")
    events, r, requests = await replay(
        http, [Stream([rec.ANTHROPIC_TOOL])], api_key_env="VV_ANTHROPIC_KEY"
    )
    request = requests[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test-0123456789abcdefghij"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert r.error is None
    assert r.reasoning == "Need the weather tool."
    assert r.text == "Checking now."
    assert r.finish_reason == "tool_calls" and r.extra["native_finish_reason"] == "tool_use"
    assert [(c.index, c.id, c.name) for c in r.tool_calls] == [
        (0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
    ]
    assert json.loads(r.tool_calls[0].arguments) == {"city": "Paris"}
    # message_start's usage, then message_delta's cumulative output count.
    assert (r.input_tokens, r.output_tokens) == (472, 89)
    assert r.tokens is None  # no logprobs in this protocol
    assert r.model_answered == "claude-sonnet-4-5-20250929" and "model_mismatch" not in r.flags
    first = next(e for e in events if isinstance(e, ReasoningDelta | TextDelta | ToolCallDelta))
    assert isinstance(first, ReasoningDelta)


async def test_stream_error_event_mid_answer(http):
    events, r, _ = await replay(http, [Stream([rec.ANTHROPIC_OVERLOADED])])
    failed = [e for e in events if isinstance(e, Failed)]
    assert len(failed) == 1 and failed[0].partial
    assert r.error.kind == "api" and "Overloaded" in r.error.message
    assert r.text == "Once upon" and r.truncated


async def test_http_error_body_and_529_retry(http):
    from vvtui.clients.retry import RetryPolicy

    overloaded = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    async with FakeProvider([Body(529, overloaded), Stream([rec.ANTHROPIC_TOOL])]) as fake:
        ep = endpoint_for(fake, protocol="anthropic", model="claude-sonnet-4-5")
        client = make_client(ep, http, retry=RetryPolicy(base_s=0.01, max_s=0.02))
        events = await collect(client.stream(probe()))
        assert len(fake.requests) == 2
    acc = Accumulator(ep, probe())
    for e in events:
        acc.feed(e)
    assert acc.result().attempts == 2 and acc.result().error is None


async def test_http_400_error_names_the_message(http):
    body = '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: bad"}}'
    _events, r, _ = await replay(http, [Body(400, body)])
    assert r.error.kind == "api" and "max_tokens: bad" in r.error.message


async def test_non_streamed_message_document(http):
    doc = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"x": 1}},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 3},
    }
    _, r, _ = await replay(http, [Body(200, json.dumps(doc))])
    assert r.text == "Hi" and r.finish_reason == "stop"
    assert [(c.name, json.loads(c.arguments)) for c in r.tool_calls] == [("f", {"x": 1})]
    assert "ignored_stream" in r.flags and (r.input_tokens, r.output_tokens) == (5, 3)
