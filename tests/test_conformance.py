"""Conformance checks: the pure judgements, the simulated hosts that short-change requests, and
the whole path on loopback (each host caught, the same weights elsewhere never flagged)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import httpx
import pytest

from tests.simtools import body, url
from vvtui.clients.conformance import (
    check_conformance,
    context_prompt,
    context_tokens_for,
    load_cached,
    save_cached,
    settings_for,
)
from vvtui.config import EndpointConfig
from vvtui.model import EndpointInfo, Price, Probe, Result, RunInfo, Snapshot
from vvtui.scoring import conformance as cf
from vvtui.scoring import score_snapshot
from vvtui.sim.hosts import HOST_FAULTS, injected_prompt, truncate_messages
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import default_profiles

S = cf.Settings(context_tokens=6000, context_fact="amber-1234")


def obs(**kw: object) -> cf.Observation:
    return cf.Observation(**kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- pure checks


def test_max_tokens_over_the_limit_or_without_length_fails():
    over = {"max_tokens": [obs(completion_tokens=9, max_tokens=8, finish_reason="length")]}
    assert cf.check_max_tokens(over, None, S).status == cf.FAIL
    silent = {"max_tokens": [obs(completion_tokens=8, max_tokens=8, finish_reason="stop")]}
    assert "finish_reason" in cf.check_max_tokens(silent, None, S).reason
    good = {"max_tokens": [obs(completion_tokens=8, max_tokens=8, finish_reason="length")]}
    assert cf.check_max_tokens(good, None, S).status == cf.PASS


def test_a_cut_the_reference_does_not_make_fails():
    ref = {"long": [obs(completion_tokens=300, max_tokens=600, finish_reason="stop")]}
    cut = {"long": [obs(completion_tokens=100, max_tokens=600, finish_reason="length")]}
    out = cf.check_max_tokens_kept(cut, ref, S)
    assert out.status == cf.FAIL and "100" in out.reason
    whole = {"long": [obs(completion_tokens=280, max_tokens=600, finish_reason="stop")]}
    assert cf.check_max_tokens_kept(whole, ref, S).status == cf.PASS


def test_stop_sequence_in_the_answer_fails():
    assert cf.check_stop({"stop": [obs(text="1, 2, 7", stop=["7"])]}, None, S).status == cf.FAIL
    assert cf.check_stop({"stop": [obs(text="1, 2, ", stop=["7"])]}, None, S).status == cf.PASS


def _greedy(tokens: list[str], top: list[list[tuple[str, float]]]) -> cf.Observation:
    chosen = [dict(row).get(t, row[0][1]) for t, row in zip(tokens, top, strict=True)]
    return obs(tokens=tokens, logprobs=chosen, top=top)


def test_temperature_zero_allows_near_ties_only():
    a = _greedy(["A", "b"], [[("A", -0.1), ("X", -3.0)], [("b", -0.6), ("c", -0.7)]])
    b = _greedy(["A", "c"], [[("A", -0.1), ("X", -3.0)], [("c", -0.6), ("b", -0.7)]])
    assert cf.check_temperature_0({"greedy": [a, b]}, None, S).status == cf.PASS
    far = _greedy(["A", "z"], [[("A", -0.1), ("X", -3.0)], [("b", -0.1), ("z", -2.5)]])
    out = cf.check_temperature_0({"greedy": [a, far]}, None, S)
    assert out.status == cf.FAIL  # "z" was chosen 2.4 nats below the top: not greedy


def test_temperature_one_needs_some_variety():
    same = {"sampled": [obs(text="x") for _ in range(4)]}
    assert cf.check_temperature_1(same, None, S).status == cf.FAIL
    varied = {"sampled": [obs(text=t) for t in "xyxx"]}
    assert cf.check_temperature_1(varied, None, S).status == cf.PASS


def test_logprobs_rules():
    good = _greedy(["a"] * 3, [[("a", -0.1), ("b", -2.5)]] * 3)
    s = dataclasses.replace(S, top_logprobs=2)
    assert cf.check_logprobs({"greedy": [good]}, None, s).status == cf.PASS
    heavy = _greedy(["a"], [[("a", -0.1), ("b", -0.2)]])  # 0.90 + 0.82 > 1
    assert "sum above 1" in cf.check_logprobs({"greedy": [heavy]}, None, s).reason
    short = _greedy(["a"] * 3, [[("a", -0.1)]] * 3)
    assert cf.check_logprobs({"greedy": [short]}, None, s).status == cf.FAIL
    assert cf.check_logprobs({"greedy": [obs(text="hi")]}, None, s).status == cf.FAIL
    declared = cf.evaluate({"greedy": [obs(text="hi")]}, None, s, {"logprobs"})
    assert declared["logprobs"].status == cf.NOT_MEASURED


def test_usage_shows_the_difference_in_tokens():
    ref = {"whole": [obs(prompt_tokens=120, completion_tokens=10)]}
    padded = {"whole": [obs(prompt_tokens=170, completion_tokens=10)]}
    out = cf.check_usage(padded, ref, S)
    assert out.status == cf.FAIL and "+50 tokens" in out.reason
    slack = {"whole": [obs(prompt_tokens=121, completion_tokens=10)]}
    assert cf.check_usage(slack, ref, S).status == cf.PASS
    billed_more = {"greedy": [obs(prompt_tokens=120, completion_tokens=12, tokens=["a"] * 10)]}
    assert cf.check_usage(billed_more, ref, S).status == cf.FAIL
    none = {"whole": [obs(text="hi")]}
    assert cf.check_usage(none, ref, S).status == cf.NOT_MEASURED


def test_context_fails_only_when_the_short_prompt_is_answered():
    lost = {"context": [obs(text="no idea")], "context_short": [obs(text="amber-1234")]}
    assert cf.check_context(lost, None, S).status == cf.FAIL
    wrong = {"context": [obs(text="no idea")], "context_short": [obs(text="amber-9")]}
    assert cf.check_context(wrong, None, S).status == cf.NOT_MEASURED
    garbled = {"context": [obs(text="amber-1294")], "context_short": [obs(text="amber-1234")]}
    assert cf.check_context(garbled, None, S).status == cf.NOT_MEASURED
    kept = {"context": [obs(text="The code is AMBER-1234.")]}
    assert cf.check_context(kept, None, S).status == cf.PASS


def test_tool_stream_compares_the_joined_fragments():
    whole = obs(tool_name="f", tool_arguments='{"city": "Paris"}')
    same = obs(tool_name="f", tool_arguments='{"city":"Paris"}')
    broken = obs(tool_name="f", tool_arguments='{"city":"Par')
    assert cf.check_tool_stream({"tool_streamed": [same], "tool_whole": [whole]}, None, S).status
    out = cf.check_tool_stream({"tool_streamed": [broken], "tool_whole": [whole]}, None, S)
    assert out.status == cf.FAIL
    refused = obs(error="unsupported: tools", error_kind="unsupported")
    out = cf.check_tool_stream({"tool_streamed": [refused], "tool_whole": [whole]}, None, S)
    assert out.status == cf.NOT_MEASURED


def test_gate_only_for_checks_the_reference_passes():
    ref = cf.record({"stop": cf.Outcome(cf.FAIL, "x"), "usage": cf.Outcome(cf.PASS)}, {}, S)
    mine = cf.record(
        {"stop": cf.Outcome(cf.FAIL, "x"), "usage": cf.Outcome(cf.FAIL, "+50 tokens")}, {}, S
    )
    entry = cf.score_entry(mine, ref)
    assert entry["failed"] == ["usage"]
    verdict, reasons = cf.gate_on_conformance("faithful", entry)
    assert verdict == "degraded" and "usage" in reasons[0] and "+50 tokens" in reasons[0]
    assert cf.gate_on_conformance("faithful", cf.score_entry(ref, ref)) == ("faithful", [])
    assert cf.gate_on_conformance("reference", entry) == ("reference", [])
    assert cf.summary_line(entry).startswith("fail: usage")


def test_observations_round_trip_through_json():
    o = obs(text="a", tokens=["a"], logprobs=[-0.1], top=[[("a", -0.1)]], prompt_tokens=3)
    again = cf.Observation.from_dict(json.loads(json.dumps(o.to_dict())))
    assert again == o


# ------------------------------------------------------------------------- the simulated hosts


def test_truncation_keeps_the_end_of_the_prompt():
    prompt = context_prompt("amber-1234", 3000, 1)
    kept = truncate_messages([{"role": "user", "content": prompt}], 500)
    assert "amber-1234" not in kept[0]["content"]
    assert kept[0]["content"].endswith("Reply with the code only.")


def test_hosts_change_usage_and_answers(sim_server_factory):
    ref = default_profiles(20)[0]
    profiles = [ref] + [dataclasses.replace(ref, name=f, fault=f) for f in HOST_FAULTS]
    server = sim_server_factory(profiles)
    ask = body("Write a few words.", max_tokens=200, stop=["zzz"])

    def answer(profile: str) -> dict:
        with httpx.Client(timeout=10) as c:
            return c.post(url(server, profile), json=ask).json()

    plain = answer("reference")
    injected = answer("inject_system")
    extra = injected["usage"]["prompt_tokens"] - plain["usage"]["prompt_tokens"]
    assert extra >= len(injected_prompt(40).split())  # the system prompt is billed ...
    assert (
        injected["choices"][0]["message"]["content"] != plain["choices"][0]["message"]["content"]
        or injected["choices"][0]["logprobs"] != plain["choices"][0]["logprobs"]
    )  # ... and read
    padded = answer("pad_prompt_tokens")
    assert padded["usage"]["prompt_tokens"] == plain["usage"]["prompt_tokens"] + 50
    capped = answer("cap_max_tokens")
    assert capped["usage"]["completion_tokens"] <= 100


# ----------------------------------------------------------------------------- on loopback


def _run(endpoints: list[EndpointConfig]) -> dict[str, dict]:
    async def go() -> dict[str, dict]:
        async with httpx.AsyncClient(timeout=30) as http:
            records, _ = await check_conformance(endpoints, http, settings_for(seed=5), seed=5)
            return records

    return asyncio.run(go())


EXPECTED = {
    "cap_max_tokens": "max_tokens_kept",
    "inject_system": "usage",
    "ignore_temperature": "temperature_0",
    "force_greedy": "temperature_1",
    "pad_prompt_tokens": "usage",
    "truncate_context": "context",
    "drop_stop": "stop",
}


def test_each_host_is_caught_and_the_same_weights_pass_everything(sim_server_factory):
    ladder = {p.name: p for p in default_profiles(20)}
    ref = ladder["reference"]
    hosts = [
        dataclasses.replace(
            ref, name=name, fault=f"{name}:3000" if name == "truncate_context" else name
        )
        for name in HOST_FAULTS
    ]
    profiles = [ref, ladder["noisy-kernel"], ladder["slow"], *hosts]
    server = sim_server_factory(profiles)
    records = _run(ladder_config(server.url, profiles).endpoints)
    entries = {
        n: cf.score_entry(r, None if n == "reference" else records["reference"])
        for n, r in records.items()
    }
    for clean in ("reference", "slow"):
        statuses = cf.statuses(entries[clean])
        assert set(statuses.values()) == {cf.PASS}, (clean, entries[clean]["checks"])
    # Nondeterministic kernels may garble the recalled code at a near-tie now and then (the
    # context check then says "not measured"); they never fail a check.
    noisy = cf.statuses(entries["noisy-kernel"])
    assert cf.FAIL not in noisy.values() and noisy["usage"] == cf.PASS, noisy
    for name, check in EXPECTED.items():
        assert check in entries[name]["failed"], (name, entries[name]["checks"])
    assert records["reference"]["requests"] == 14
    assert records["reference"]["prompt_tokens"] > 6000  # the context probe is long


def test_the_verdict_names_the_failed_check():
    """A host whose answers match the reference token for token is still not faithful when it
    fails a conformance check the reference passes."""
    probes = [Probe(id=f"p{i}", messages=[{"role": "user", "content": "hi"}]) for i in range(8)]
    ref_rec = cf.record({"max_tokens_kept": cf.Outcome(cf.PASS)}, {"requests": 14}, S)
    capped_rec = cf.record(
        {"max_tokens_kept": cf.Outcome(cf.FAIL, "cut at 100 tokens")}, {"requests": 14}, S
    )
    endpoints = [
        EndpointInfo("ref", "m", "u", reference=True, conformance=ref_rec),
        EndpointInfo("capped", "m", "u", conformance=capped_rec),
        EndpointInfo("copy", "m", "u", conformance=ref_rec),
    ]
    results = [
        Result(endpoint=e.name, probe_id=p.id, text="same answer", finish_reason="stop")
        for p in probes
        for e in endpoints
    ]
    snap = Snapshot("t", "now", RunInfo(), endpoints, probes, results)
    report = score_snapshot(snap)
    capped, copy = report.endpoints["capped"], report.endpoints["copy"]
    assert copy.verdict == "faithful" and copy.conformance["failed"] == []
    assert capped.fidelity == pytest.approx(100.0, rel=1e-9)
    assert capped.verdict == "degraded"
    assert "answers cut short" in capped.verdict_reasons[0]
    again = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert score_snapshot(again).endpoints["capped"].verdict_reasons == capped.verdict_reasons


def test_cache_round_trip_and_simulated_endpoints_are_not_cached(tmp_path: Path):
    real = EndpointConfig(name="real", base_url="https://x/v1", model="m")
    sim = EndpointConfig(name="sim", base_url="http://127.0.0.1:1/v1", model="m", simulated=True)
    s = settings_for(seed=1)
    observed = {"real": {"stop": [obs(text="1, 2")]}, "sim": {"stop": [obs(text="1")]}}
    path = save_cached([real, sim], observed, s, tmp_path / "c.json", now=1000.0)
    found, fact = load_cached([real, sim], s, path, now=2000.0)
    assert set(found) == {"real"} and fact == s.context_fact
    assert found["real"]["stop"][0].text == "1, 2"
    stale, _ = load_cached([real], s, path, now=1000.0 + 8 * 24 * 3600)
    assert stale == {}


def test_context_length_comes_from_the_flag_the_advert_or_the_budget():
    a = EndpointConfig(name="a", base_url="u", model="m", labels={"context_length": "32768"})
    b = EndpointConfig(name="b", base_url="u", model="m", labels={"context_length": "8192"})
    assert context_tokens_for([a, b], 1000, None) == (1000, "--context-tokens")
    tokens, why = context_tokens_for([a, b], None, None)
    assert tokens == int(8192 * 0.9) and "advertised" in why
    pricey = dataclasses.replace(a, price=Price(20.0, 40.0))
    tokens, why = context_tokens_for([pricey, b], None, 0.05)
    assert tokens == 2500 and "capped" in why
    huge = dataclasses.replace(a, labels={"context_length": "262144"})
    assert context_tokens_for([huge], None, None)[0] == 32_768
    plain = EndpointConfig(name="c", base_url="u", model="m")
    assert context_tokens_for([a, plain], None, None)[0] == 6000


# ------------------------------------------------------------------------------ the commands


def _sim_config(tmp_path: Path, server, names: list[str]) -> Path:
    from vvtui.sim.ladder import sim_config_toml

    profiles = [p for p in default_profiles(20) if p.name in names]
    path = tmp_path / "c.toml"
    path.write_text(sim_config_toml(server.url, profiles))
    return path


def test_run_records_conformance_and_gates_the_verdict(tmp_path: Path, sim_server_factory, capsys):
    from vvtui.cli import main

    names = ["reference", "noisy-kernel", "capped", "injected"]
    server = sim_server_factory([p for p in default_profiles(20) if p.name in names])
    config = _sim_config(tmp_path, server, names)
    out = tmp_path / "s.json"
    args = ["run", "--headless", "--config", str(config), "--suite", "quick", "--seed", "3"]
    assert main([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "capped fails max_tokens_kept" in err and "injected fails usage" in err
    snap = json.loads(out.read_text())
    infos = {e["name"]: e for e in snap["endpoints"]}
    assert infos["capped"]["conformance"]["requests"] == 14
    scores = snap["scores"]["endpoints"]
    assert scores["capped"]["verdict"] == "degraded"
    assert scores["capped"]["conformance"]["failed"] == ["max_tokens_kept"]
    # The truncation gate (a probe cut short) may come first; the failed check is named too.
    assert any("(max_tokens_kept:" in r for r in scores["capped"]["verdict_reasons"])
    assert scores["injected"]["verdict"] == "degraded"
    assert any("+44 tokens" in r for r in scores["injected"]["verdict_reasons"])
    assert scores["noisy-kernel"]["conformance"]["failed"] == []
    # Re-scoring the snapshot alone gives the same gate.
    again = score_snapshot(Snapshot.from_dict(snap))
    assert again.endpoints["capped"].verdict_reasons == scores["capped"]["verdict_reasons"]

    skipped = tmp_path / "t.json"
    assert main([*args, "--out", str(skipped), "--no-conformance", "-q"]) == 0
    snap = json.loads(skipped.read_text())
    assert all(not e["conformance"] for e in snap["endpoints"])
    # Without the checks only the truncation part can see the cap (the long probe it cuts).
    reasons = snap["scores"]["endpoints"]["capped"]["verdict_reasons"]
    assert reasons and all(r.startswith("✂") for r in reasons)


def test_endpoints_check_prints_a_conformance_section(tmp_path: Path, sim_server_factory, capsys):
    from vvtui.cli import main

    names = ["reference", "capped"]
    server = sim_server_factory([p for p in default_profiles(20) if p.name in names])
    config = _sim_config(tmp_path, server, names)
    assert main(["endpoints", "check", "--config", str(config), "--endpoint", "capped"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    capped = next(line for line in lines if line.startswith("capped") and "requests" in line)
    assert "fail: not_cut" in capped and "14 requests" in capped
    assert any(line.startswith("reference") and "9/9 pass" in line for line in lines)
    assert "max_tokens_kept: fail: cut at 100 tokens" in out
    assert main(["endpoints", "check", "--config", str(config), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {d["endpoint"]: d for d in data}
    assert by_name["capped"]["conformance"]["failed"] == ["max_tokens_kept"]
    assert main(["endpoints", "check", "--config", str(config), "--context-tokens", "0"]) == 2


def test_a_dead_host_is_not_sent_the_rest_of_its_checks(monkeypatch):
    """A refused port: the first round of requests fails, and the checks not sent by then are
    recorded as not sent (kind `down`) instead of each waiting for its own failure. Every check
    of that endpoint stays unmeasured, as if each had failed."""
    import vvtui.clients.conformance as conformance
    from tests.faultmatrix import closed_port

    sent: list[str] = []
    send = conformance._send

    async def counting(ep, http, retry, probe, stream, extra):  # type: ignore[no-untyped-def]
        sent.append(probe.id)
        return await send(ep, http, retry, probe, stream, extra)

    monkeypatch.setattr(conformance, "_send", counting)
    dead = EndpointConfig(
        name="dead",
        base_url=f"http://127.0.0.1:{closed_port()}/v1",
        model="m",
        max_concurrency=2,
        max_retries=0,
    )
    settings = settings_for(seed=5)
    planned = len(conformance.requests(settings, 5))

    async def go() -> cf.Observations:
        async with httpx.AsyncClient(timeout=5) as http:
            return await conformance.observe_endpoint(dead, http, settings, seed=5)

    observed = asyncio.run(go())
    got = [o for runs in observed.values() for o in runs]
    assert len(got) == planned > 4
    assert all(not o.ok for o in got)
    assert len(sent) < planned
    assert len(sent) <= 2 + 1  # two in flight at a time; at most one more starts meanwhile
    down = [o for o in got if o.error_kind == "down"]
    assert len(down) == planned - len(sent)
    assert all("connect" in (o.error or "") for o in down)
