"""Capability checks against fakes that support, refuse, ignore or break each feature."""

from __future__ import annotations

import json
import random
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import recordings as rec
from tests.fakes import DONE, Body, Dynamic, FakeProvider, Stream, chunk, endpoint_for, sse
from vvtui.cli import main
from vvtui.clients import new_http_client
from vvtui.clients.capabilities import (
    ERROR,
    IGNORED,
    SUPPORTED,
    UNSUPPORTED,
    Capabilities,
    Support,
    check_endpoint,
)
from vvtui.clients.retry import RetryPolicy
from vvtui.config import EndpointConfig
from vvtui.features import probe_features
from vvtui.model import Probe
from vvtui.sim.http import ServerThread

FAST = RetryPolicy(base_s=0.01, max_s=0.02)


@dataclass
class Traits:
    usage: bool = True
    max_top: int | None = 8  # None: rejects logprobs like DeepSeek reasoner
    top_limit_error: int | None = None  # a 400 above this many alternatives (vLLM)
    tools: bool = True
    json_object: bool = True
    json_schema: str = "ok"  # ok | ignore | crash (llama-cpp-python answers 500)
    seed: bool = True


def server(traits: Traits):
    def choose(request):
        body = request.json()
        if body.get("logprobs"):
            if traits.max_top is None:
                return Body(400, rec.DEEPSEEK_LOGPROBS_400)
            asked = body.get("top_logprobs", 0)
            if traits.top_limit_error is not None and asked > traits.top_limit_error:
                message = f"top_logprobs must be <= {traits.top_limit_error}"
                return Body(400, json.dumps({"object": "error", "message": message}))
        fmt = (body.get("response_format") or {}).get("type")
        if fmt == "json_schema" and traits.json_schema == "crash":
            return Body(500, "Internal Server Error", "text/plain")
        text = "ok"
        calls = None
        if fmt == "json_object" and traits.json_object:
            text = '{"ok": true}'
        elif fmt == "json_schema" and traits.json_schema == "ok":
            text = '{"answer": "Paris"}'
        elif body.get("tools") and traits.tools:
            text = None
            calls = [
                {
                    "index": 0,
                    "id": "c",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ]
        elif body.get("temperature", 0) > 0:
            seed = body.get("seed") if traits.seed else None
            text = f"word{random.Random(seed).randrange(10**9)}"
        logprobs = None
        if body.get("logprobs") and text:
            n = min(body.get("top_logprobs", 0), traits.max_top)
            alts = [{"token": text, "logprob": -0.1}] + [
                {"token": f"x{i}", "logprob": -5.0 - i} for i in range(n - 1)
            ]
            logprobs = [{"token": text, "logprob": -0.1, "top_logprobs": alts[:n]}]
        parts = [
            sse(chunk("", role="assistant")),
            sse(chunk(text, tool_calls=calls, logprobs=logprobs)),
            sse(chunk(None, finish="tool_calls" if calls else "stop")),
        ]
        if traits.usage:
            parts.append(
                sse({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 1}})
            )
        parts.append(DONE)
        return Stream(parts)

    return choose


async def check(traits: Traits) -> Capabilities:
    async with FakeProvider([Dynamic(server(traits))]) as fake, new_http_client() as http:
        return await check_endpoint(endpoint_for(fake), http, retry=FAST)


def statuses(caps: Capabilities) -> dict[str, str]:
    return {name: s.status for name, s in caps.features.items()}


async def test_a_capable_endpoint_supports_everything():
    caps = await check(Traits())
    assert statuses(caps) == {
        "stream_usage": SUPPORTED,
        "logprobs": SUPPORTED,
        "tools": SUPPORTED,
        "json_object": SUPPORTED,
        "json_schema": SUPPORTED,
        "seed": SUPPORTED,
    }
    assert caps.max_top_logprobs == 8  # asked 20, fewer came back
    assert caps.missing() == set() and caps.errors() == set()


async def test_refused_ignored_and_broken_features_are_told_apart():
    caps = await check(
        Traits(
            usage=False,
            max_top=None,
            tools=False,
            json_object=False,
            json_schema="crash",
            seed=False,
        )
    )
    got = statuses(caps)
    # Refused with a 4xx naming the parameter: the one way (besides the config) to be missing.
    assert got["logprobs"] == UNSUPPORTED and "logprobs" in caps.features["logprobs"].detail
    # Accepted and answered without the feature: measured in runs, never excused.
    assert got["stream_usage"] == IGNORED
    assert got["tools"] == IGNORED and "without calling" in caps.features["tools"].detail
    assert got["json_object"] == IGNORED and "not JSON" in caps.features["json_object"].detail
    assert got["json_schema"] == ERROR and "500" in caps.features["json_schema"].detail
    assert got["seed"] == IGNORED
    assert caps.max_top_logprobs is None
    assert caps.missing() == {"logprobs"}


async def test_a_schema_ignored_is_not_a_missing_feature():
    caps = await check(Traits(json_schema="ignore"))
    assert caps.features["json_schema"].status == IGNORED
    assert caps.missing() == set()
    assert caps.allows(Probe(id="s", kind="json", response_format={"type": "json_schema"}))


async def test_logprob_limit_steps_down_the_ladder():
    caps = await check(Traits(top_limit_error=5, max_top=20))
    assert caps.features["logprobs"].status == SUPPORTED
    assert caps.max_top_logprobs == 5


async def test_unreachable_endpoint_is_error_not_unsupported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ep = EndpointConfig(name="down", base_url=f"http://127.0.0.1:{port}/v1", model="m")
    async with new_http_client() as http:
        caps = await check_endpoint(ep, http, retry=FAST)
    assert set(statuses(caps).values()) == {ERROR}
    assert caps.missing() == set()
    assert "connect" in caps.features["tools"].detail


def test_probe_features_and_allows():
    logprob = Probe(id="a", kind="logprob", top_logprobs=5)
    tool = Probe(id="b", kind="tool_call", tools=[{"type": "function"}])
    schema = Probe(id="c", kind="json", response_format={"type": "json_schema"})
    sampled = Probe(id="d", kind="sampled", seed=1, temperature=1.0)
    plain = Probe(id="e")
    assert probe_features(logprob) == {"logprobs"}
    assert probe_features(tool) == {"tools"}
    assert probe_features(schema) == {"json_schema"}
    assert probe_features(sampled) == {"seed"}
    assert probe_features(plain) == set()
    caps = Capabilities("x", {"logprobs": Support(UNSUPPORTED), "tools": Support(ERROR)})
    assert not caps.allows(logprob)
    assert caps.allows(tool)  # an error is not a declared-missing feature
    assert caps.allows(plain)


def test_capabilities_round_trip():
    caps = Capabilities(
        "x", {"logprobs": Support(SUPPORTED, "asked 20"), "seed": Support(UNSUPPORTED)}, 20
    )
    again = Capabilities.from_dict(json.loads(json.dumps(caps.to_dict())))
    assert again == caps


def test_cli_prints_one_line_per_endpoint_and_json(tmp_path: Path, capsys):
    good = ServerThread(lambda: _thread_handler(Traits())).start()
    bad = ServerThread(lambda: _thread_handler(Traits(max_top=None, usage=False))).start()
    try:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[[endpoint]]\nname = "good"\nbase_url = "{good.url}/v1"\nmodel = "m"\n'
            f'[[endpoint]]\nname = "refuses-logprobs"\nbase_url = "{bad.url}/v1"\nmodel = "m"\n'
        )
        # Capabilities alone here (conformance: tests/test_conformance.py).
        assert main(["endpoints", "check", "--config", str(config), "--no-conformance"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 2
        assert lines[0].startswith("good") and "logprobs=supported(top 8)" in lines[0]
        assert "logprobs=unsupported" in lines[1] and "stream_usage=ignored" in lines[1]
        assert (
            main(
                [
                    "endpoints",
                    "check",
                    "--config",
                    str(config),
                    "--json",
                    "--endpoint",
                    "good",
                    "--no-conformance",
                ]
            )
            == 0
        )
        data = json.loads(capsys.readouterr().out)
        assert [d["endpoint"] for d in data] == ["good"]
        assert data[0]["features"]["tools"]["status"] == SUPPORTED
    finally:
        good.stop()
        bad.stop()


def test_cli_exit_code_when_checks_error(tmp_path: Path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "c.toml"
    config.write_text(
        f'[[endpoint]]\nname = "down"\nbase_url = "http://127.0.0.1:{port}/v1"\nmodel = "m"\n'
        "max_retries = 0\n"
    )
    assert main(["endpoints", "check", "--config", str(config), "--no-conformance"]) == 1
    captured = capsys.readouterr()
    assert "stream_usage=error" in captured.out and "down" in captured.err
    assert main(["endpoints", "check", "--config", str(config), "--endpoint", "nope"]) == 2


def test_cli_says_why_checks_failed_once(tmp_path: Path, capsys, monkeypatch):
    """A missing key fails every check with one sentence: printed without -v, and once."""
    monkeypatch.delenv("VVTUI_TEST_UNSET_KEY", raising=False)
    good = ServerThread(lambda: _thread_handler(Traits())).start()
    try:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[[endpoint]]\nname = "good"\nbase_url = "{good.url}/v1"\nmodel = "m"\n'
            f'[[endpoint]]\nname = "keyless"\nbase_url = "{good.url}/v1"\nmodel = "m"\n'
            'api_key_env = "VVTUI_TEST_UNSET_KEY"\n'
        )
        for verbose in ([], ["-v"]):
            assert main(["endpoints", "check", "--config", str(config), *verbose]) == 1
            captured = capsys.readouterr()
            lines = captured.out.splitlines()
            assert lines[0].startswith("good") and "stream_usage=supported" in lines[0]
            keyless = lines.index(next(x for x in lines if x.startswith("keyless")))
            assert "stream_usage=error" in lines[keyless]
            reason = lines[keyless + 1]
            assert reason.startswith("  every check: error: config:")
            assert "$VVTUI_TEST_UNSET_KEY" in reason
            assert captured.out.count("which is not set") == 1
            assert len(lines) == len(set(lines))
            assert "rerun with -v" not in captured.err and "keyless" in captured.err
            # Supported features explain themselves only when asked.
            assert ("asked 20, got up to 8 alternatives" in captured.out) == bool(verbose)
    finally:
        good.stop()


def _thread_handler(traits: Traits):
    """The same fake for a server running on its own loop (the CLI runs asyncio.run)."""
    from tests.fakes import FakeProvider

    fake = FakeProvider([Dynamic(server(traits))])
    return fake._handle


@pytest.fixture(autouse=True)
def _no_leaked_config(monkeypatch):
    monkeypatch.delenv("VVTUI_CONFIG", raising=False)
