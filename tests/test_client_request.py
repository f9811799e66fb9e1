"""Request bodies: exactly what the probe says, merged extras, the simulator hint."""

from __future__ import annotations

import copy

from vvtui.clients.request import DEFAULT_TOP_LOGPROBS, build_openai_body, deep_merge
from vvtui.config import EndpointConfig
from vvtui.model import ExpectedToolCall, Probe


def ep(**kw) -> EndpointConfig:
    return EndpointConfig(name="e", base_url="http://x/v1", model="the-model", **kw)


def test_minimal_body_sends_sampling_exactly_and_nothing_else():
    p = Probe(id="p", messages=[{"role": "user", "content": "hi"}], max_tokens=32)
    body = build_openai_body(p, ep(logprobs=False))
    assert body == {
        "model": "the-model",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.0,
        "max_tokens": 32,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_non_streaming_has_no_stream_options():
    body = build_openai_body(Probe(id="p"), ep(logprobs=False), stream=False)
    assert body["stream"] is False and "stream_options" not in body
    assert "max_tokens" not in body and "seed" not in body


def test_seed_advances_with_the_sample():
    p = Probe(id="p", seed=100, temperature=0.7, kind="sampled")
    assert build_openai_body(p, ep(), sample=0)["seed"] == 100
    assert build_openai_body(p, ep(), sample=3)["seed"] == 103
    assert "seed" not in build_openai_body(Probe(id="q"), ep(), sample=3)


def test_logprobs_follow_the_endpoint_and_the_probe():
    p = Probe(id="p", top_logprobs=5)
    body = build_openai_body(p, ep())
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    # Deterministic probes get a few alternatives by default (near-tie detection); sampled
    # probes that do not ask get none, and 0 is never sent.
    default = build_openai_body(Probe(id="p"), ep())
    assert default["logprobs"] is True and default["top_logprobs"] == DEFAULT_TOP_LOGPROBS
    sampled = Probe(id="s", kind="sampled", temperature=1.0)
    no_alts = build_openai_body(sampled, ep())
    assert no_alts["logprobs"] is True and "top_logprobs" not in no_alts
    off = build_openai_body(p, ep(logprobs=False))
    assert "logprobs" not in off and "top_logprobs" not in off


def test_tools_choice_and_response_format_pass_through():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    p = Probe(id="p", tools=tools, tool_choice="required", response_format=fmt)
    body = build_openai_body(p, ep())
    assert body["tools"] == tools and body["tool_choice"] == "required"
    assert body["response_format"] == fmt


def test_extra_bodies_deep_merge_with_the_endpoint_winning():
    p = Probe(
        id="p",
        extra_body={"provider": {"order": ["a"], "sort": "price"}, "repeat_penalty": 1.1},
    )
    e = ep(extra_body={"provider": {"order": ["groq"], "allow_fallbacks": False}})
    body = build_openai_body(p, e)
    assert body["provider"] == {"order": ["groq"], "sort": "price", "allow_fallbacks": False}
    assert body["repeat_penalty"] == 1.1
    # Extras may override even core fields (the user asked for it).
    assert (
        build_openai_body(Probe(id="p"), ep(extra_body={"temperature": 0.5}))["temperature"] == 0.5
    )


def test_building_never_mutates_the_probe_or_endpoint():
    p = Probe(
        id="p",
        messages=[{"role": "user", "content": "x"}],
        extra_body={"a": {"b": 1}},
        tools=[{"type": "function", "function": {"name": "f"}}],
    )
    e = ep(extra_body={"a": {"c": 2}})
    before = (copy.deepcopy(p.to_dict()), copy.deepcopy(e.extra_body))
    body = build_openai_body(p, e)
    body["messages"][0]["content"] = "changed"
    body["a"]["b"] = 99
    body["tools"][0]["function"]["name"] = "g"
    assert (p.to_dict(), e.extra_body) == before


def test_simulated_endpoints_get_the_hint_real_ones_never():
    p = Probe(
        id="arith-1",
        kind="tool_call",
        answer="42",
        answer_tool_calls=[ExpectedToolCall("add", {"a": 40, "b": 2})],
        language="latin",
    )
    body = build_openai_body(p, ep(simulated=True), sample=2)
    assert body["vvtui_sim"] == {
        "probe_id": "arith-1",
        "kind": "tool_call",
        "answer": "42",
        "tool_calls": [{"name": "add", "arguments": {"a": 40, "b": 2}}],
        "language": "latin",
        "sample": 2,
    }
    assert "vvtui_sim" not in build_openai_body(p, ep())
    plain = build_openai_body(Probe(id="q"), ep(simulated=True))
    assert plain["vvtui_sim"]["answer"] is None and plain["vvtui_sim"]["tool_calls"] is None


def test_deep_merge():
    assert deep_merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "d": {"x": 1}}) == {
        "a": {"b": 3, "c": 2},
        "d": {"x": 1},
    }


def test_client_records_import_without_httpx():
    """The runner, reports and scoring read events, results and capabilities without httpx."""
    import subprocess
    import sys

    code = (
        "import sys; import vvtui.clients, vvtui.clients.events, vvtui.clients.accumulate, "
        "vvtui.clients.capabilities, vvtui.clients.request; "
        "print(sorted(m for m in ('httpx', 'httpcore', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
