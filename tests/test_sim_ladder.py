"""The ladder end to end over HTTP, the configs pointing at it, and the `vvtui sim` command."""

from __future__ import annotations

import asyncio
import difflib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.simtools import url
from vvtui.config import parse_config
from vvtui.sim.ladder import ladder_config, sim_config_toml
from vvtui.sim.profiles import default_profiles
from vvtui.sim.samples import answer_of, sample_bodies

LADDER = ("reference", "noisy-kernel", "fp8", "int4", "int2")


def _agreement(ref: list[str], other: list[str]) -> float:
    matcher = difflib.SequenceMatcher(a=ref, b=other, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return same / max(len(ref), len(other), 1)


async def _run(client: httpx.AsyncClient, target: str, payload: dict) -> tuple[str, list[str]]:
    # Non-streaming keeps the test fast; the streamed path is covered in test_sim_server.
    r = await client.post(target, json={**payload, "logprobs": True, "top_logprobs": 0})
    assert r.status_code == 200
    message = r.json()["choices"][0]["message"]
    if message.get("tool_calls"):
        calls = [c["function"] for c in message["tool_calls"]]
        rendered = "|".join(c["name"] + c["arguments"] for c in calls)
        return rendered, [c["name"] for c in calls] + [rendered]
    content = r.json()["choices"][0]["logprobs"]["content"]
    return message["content"] or "", [item["token"] for item in content]


async def test_ladder_damage_ordering_over_http(sim_server_factory):
    server = sim_server_factory(speed=400)
    bodies = sample_bodies(35, seed=11)
    gate = asyncio.Semaphore(4)
    async with httpx.AsyncClient(timeout=httpx.Timeout(20.0)) as client:

        async def one(profile: str, body: dict) -> tuple[str, list[str]]:
            async with gate:
                return await _run(client, url(server, profile), body)

        jobs = [one(p, b) for p in ("reference", *LADDER) for b in bodies]
        results = await asyncio.gather(*jobs)
    n = len(bodies)
    baseline = results[:n]
    agree, exact = {}, {}
    for i, profile in enumerate(LADDER, start=1):
        runs = results[i * n : (i + 1) * n]
        scores = [_agreement(ref[1], run[1]) for ref, run in zip(baseline, runs, strict=True)]
        agree[profile] = sum(scores) / n
        exact[profile] = sum(run[0] == answer_of(b) for run, b in zip(runs, bodies, strict=True))
    print("agreement", agree, "exact", exact)
    assert agree["reference"] > 0.97 and agree["noisy-kernel"] > 0.95
    assert agree["fp8"] > agree["int4"] > agree["int2"]
    assert agree["fp8"] > 0.95 and agree["int2"] < 0.7
    assert exact["reference"] >= n - 2
    assert exact["fp8"] > exact["int4"] > exact["int2"]


def test_ladder_config_points_at_the_profiles():
    profiles = default_profiles()
    config = ladder_config("http://127.0.0.1:9999/", profiles)
    assert [e.name for e in config.endpoints] == [p.name for p in profiles]
    assert config.reference.name == "reference"
    assert sum(e.reference for e in config.endpoints) == 1
    for e, p in zip(config.endpoints, profiles, strict=True):
        assert e.base_url == f"http://127.0.0.1:9999/{p.name}/v1"
        assert e.model == "vv-sim-8b" and e.simulated and e.api_key_env is None
        assert e.price == p.price and e.price.source == "sim"
        assert e.max_concurrency == 4 and e.labels["simulated"]
        # Stalls are noticed in seconds (not the 30 s meant for real hosts), never before the
        # profile's slowest first token could arrive.
        assert 4 * p.ttft_s * (1 + p.jitter) <= e.stall_timeout_s < 10 and e.timeout_s <= 10
    prices = {e.name: e.price.output for e in config.endpoints}
    assert prices["int2"] < prices["int4"] < prices["fp8"] < prices["reference"] < prices["pricey"]


def test_sim_config_toml_round_trips():
    profiles = default_profiles()
    text = sim_config_toml("http://127.0.0.1:8765", profiles)
    parsed = parse_config(text, Path("sim.toml"))
    expected = ladder_config("http://127.0.0.1:8765", profiles)
    for got, want in zip(parsed.endpoints, expected.endpoints, strict=True):
        assert (got.name, got.base_url, got.model, got.reference, got.simulated) == (
            want.name,
            want.base_url,
            want.model,
            want.reference,
            want.simulated,
        )
        assert (got.price.input, got.price.output) == (want.price.input, want.price.output)
        assert got.labels == want.labels
        assert (got.timeout_s, got.stall_timeout_s) == (want.timeout_s, want.stall_timeout_s)


def test_speed_divides_every_delay():
    slow, fast = default_profiles(), default_profiles(speed=20)
    for a, b in zip(slow, fast, strict=True):
        assert b.ttft_s == pytest.approx(a.ttft_s / 20)
        assert b.tokens_per_s == pytest.approx(a.tokens_per_s * 20)
    names = {p.name for p in slow}
    assert names >= {"reference", "noisy-kernel", "fp8", "int4", "int2", "substituted"}
    assert names >= {"slow", "pricey"}


def test_sim_command_is_registered_and_light():
    code = (
        "import sys; from vvtui.cli import build_parser; p = build_parser(); "
        "p.parse_args(['sim', '--port', '0', '--speed', '5']); "
        "assert 'numpy' not in sys.modules and 'vvtui.sim.server' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_sim_command_rejects_bad_speed(capsys):
    from vvtui.cli import main

    assert main(["sim", "--speed", "0"]) == 2
    assert "--speed must be positive" in capsys.readouterr().err


def test_simulator_in_a_child_process():
    from vvtui.sim.process import start_sim_process
    from vvtui.sim.profiles import Profile

    profiles = [Profile("only", "one profile", ttft_s=0.0, tokens_per_s=1000, fault="wrong_model")]
    with start_sim_process(profiles) as sim:
        payload = {"model": "vv-sim-8b", "messages": [{"role": "user", "content": "hi"}]}
        r = httpx.post(f"{sim.url}/only/v1/chat/completions", json=payload, timeout=10)
        assert r.status_code == 200 and r.json()["model"] == "vv-sim-3b-instruct"
        proc = sim.proc
    assert proc.poll() is not None  # closing stdin ended the child


def test_the_child_reports_what_it_served():
    import time

    from vvtui.sim.process import start_sim_process
    from vvtui.sim.profiles import Profile

    profiles = [Profile("only", "one profile", ttft_s=0.02, tokens_per_s=500, jitter=0.0)]
    answer = "one two three four five"
    with start_sim_process(profiles) as sim:
        payload = {
            "model": "vv-sim-8b",
            "stream": True,
            "temperature": 0,
            "messages": [{"role": "user", "content": "count"}],
            "vvtui_sim": {"probe_id": "count-1", "answer": answer, "sample": 2},
        }
        sent = time.perf_counter()
        r = httpx.post(f"{sim.url}/only/v1/chat/completions", json=payload, timeout=10)
        got = time.perf_counter()
        assert r.status_code == 200
        records = sim.requests()
        assert sim.requests() == []  # handed over once
    (record,) = records
    assert record["key"] == "count-1#2" and record["profile"] == "only"
    assert record["ttft_s"] == 0.02 and record["tokens_per_s"] == 500
    written = record["written"]
    contents = [line for line in r.text.split("\n\n") if '"content":"' in line]
    assert len(written) == len(contents) - 1  # the role chunk's empty content is no token
    assert written == sorted(written)
    # Server times are on the clock perf_counter reads here: inside this request's lifetime, and
    # never before the plan allowed (arrival + ttft + i / rate).
    assert sent <= record["arrived"] <= written[0] <= written[-1] <= got
    for i, t in enumerate(written):
        assert t >= record["arrived"] + 0.02 + i / 500 - 1e-6
