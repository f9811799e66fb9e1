"""Each server's dialect, replayed byte for byte over loopback HTTP (tests/recordings.py)."""

from __future__ import annotations

import json

import pytest

from tests import recordings as rec
from tests.fakes import Body, FakeProvider, Stream, collect, endpoint_for, probe
from vvtui.clients import make_client, new_http_client
from vvtui.clients.accumulate import Accumulator
from vvtui.clients.events import Failed, Finish, Meta
from vvtui.model import Price


@pytest.fixture
async def http():
    async with new_http_client(max_connections=4) as client:
        yield client


def split(data: bytes, size: int = 97) -> list[bytes]:
    """Cut a recording into network-sized pieces that ignore event boundaries."""
    return [data[i : i + size] for i in range(0, len(data), size)]


async def replay(http, data, *, model="m", the_probe=None, **endpoint):
    async with FakeProvider([Stream(split(data))]) as fake:
        ep = endpoint_for(fake, model=model, **endpoint)
        the_probe = the_probe or probe()
        events = await collect(make_client(ep, http).stream(the_probe))
    acc = Accumulator(ep, the_probe)
    for event in events:
        acc.feed(event)
    return events, acc.result()


async def test_vllm_reasoning_field_usage_on_every_chunk_and_stop_reason(http):
    _events, r = await replay(http, rec.VLLM_REASONING, model="Qwen/Qwen3-8B")
    assert r.error is None and r.finish_reason == "stop"
    assert r.reasoning == "Two plus two is four." and r.text == "4"
    assert (r.input_tokens, r.output_tokens) == (14, 4) and not r.usage_estimated
    assert r.extra["stop_reason"] == "</answer>"
    assert r.tokens is not None and r.tokens.text == ["4"]
    assert r.tokens.top == [[("4", -0.0012), ("Four", -6.9)]]
    assert "model_mismatch" not in r.flags


async def test_vllm_reasoning_content_field(http):
    _, r = await replay(http, rec.VLLM_REASONING_CONTENT)
    assert r.reasoning == "Simple sum." and r.text == "4"
    assert r.output_tokens == 4
    assert r.extra["stop_reason"] is None
    # vLLM names the served path; asking for "m" is a different model.
    assert "model_mismatch" in r.flags


async def test_sglang_abort_is_a_truncated_answer(http):
    _, r = await replay(http, rec.SGLANG_ABORT, model="default")
    assert r.finish_reason == "abort" and r.truncated and "aborted" in r.flags
    assert r.reasoning == "Considering" and r.text == "The answer"
    assert r.output_tokens == 3 and r.extra["matched_stop"] is None


async def test_llama_server_eos_token_and_timings(http):
    _, r = await replay(http, rec.LLAMA_SERVER, model="llama-3-8b-q4_k_m")
    assert r.text == "Hi!" and r.finish_reason == "stop"
    assert r.tokens is not None
    # The end-of-sequence token is kept, as the server reported it and counted it.
    assert r.tokens.text == ["Hi", "!", ""]
    assert r.tokens.bytes == [[72, 105], [33], []]
    assert r.output_tokens == 3
    assert r.extra["timings"]["predicted_per_second"] == pytest.approx(71.9)
    assert r.system_fingerprint == "b4600-a1b2c3d4"


async def test_llama_cpp_python_crlf_no_usage_null_bytes_echoed_model(http):
    _events, r = await replay(http, rec.LLAMA_CPP_PYTHON, model="whatever-you-asked")
    assert r.error is None and r.text == "Hello"
    assert "no_usage" in r.flags and r.usage_estimated
    assert r.output_tokens == 2  # from the logprob entries
    assert r.tokens is not None and r.tokens.bytes is None  # every entry had bytes: null
    assert r.tokens.top is not None and len(r.tokens.top[0]) == 2
    assert r.model_answered == "whatever-you-asked" and "model_mismatch" not in r.flags
    assert "malformed_chunks" not in r.flags


async def test_ollama_reasoning_and_whole_tool_call(http):
    _, r = await replay(http, rec.OLLAMA_TOOL, model="qwen3:8b")
    assert r.reasoning == "User wants weather." and r.text == ""
    assert r.finish_reason == "tool_calls"
    assert [(c.id, c.name) for c in r.tool_calls] == [("call_k2x9", "get_weather")]
    assert json.loads(r.tool_calls[0].arguments) == {"city": "Paris"}
    assert (r.input_tokens, r.output_tokens) == (71, 24)


async def test_openrouter_provider_cost_and_native_finish_reason(http):
    events, r = await replay(
        http, rec.OPENROUTER, model="moonshotai/kimi-k2-0905", price=Price(100.0, 100.0)
    )
    assert r.text == "Paris." and r.finish_reason == "stop"
    assert r.upstream_provider == "Groq"
    assert r.extra["native_finish_reason"] == "stop"
    # The provider's own cost wins over the configured price.
    assert r.cost_usd == pytest.approx(0.0000123)
    assert (r.input_tokens, r.output_tokens) == (12, 2)
    metas = [e for e in events if isinstance(e, Meta)]
    assert metas[0].upstream_provider == "Groq"


async def test_openrouter_mid_stream_error(http):
    events, r = await replay(http, rec.OPENROUTER_MIDSTREAM_ERROR, model="moonshotai/kimi-k2-0905")
    failed = [e for e in events if isinstance(e, Failed)]
    assert len(failed) == 1 and failed[0].partial
    assert not [e for e in events if isinstance(e, Finish)]
    assert r.error is not None and r.error.kind == "api"
    assert "Provider disconnected unexpectedly" in r.error.message
    assert r.text == "The capital is" and r.truncated
    assert r.upstream_provider == "Chutes"


async def test_deepseek_reasoner_rejecting_logprobs_is_unsupported(http):
    async with FakeProvider([Body(400, rec.DEEPSEEK_LOGPROBS_400)]) as fake:
        ep = endpoint_for(fake, model="deepseek-reasoner")
        events = await collect(make_client(ep, http).stream(probe(top_logprobs=5)))
        assert json.loads(fake.requests[0].body)["logprobs"] is True
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.error.kind == "unsupported" and failed.error.status == 400
    assert "logprobs" in failed.error.message
