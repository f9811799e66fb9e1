"""Features an endpoint declared it lacks (`vvtui endpoints check`) shape the run: its probes
needing them are recorded as unsupported without being sent, and never count against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_runner import StubClient, endpoints, factory, no_http
from vvtui.clients.capabilities import (
    UNSUPPORTED,
    Capabilities,
    Support,
    apply_capabilities,
    load_cached,
    save_cached,
)
from vvtui.model import Probe
from vvtui.runner.core import Runner
from vvtui.runner.plan import RunPlan

SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}


def lacking(name: str, *features: str) -> Capabilities:
    return Capabilities(name, {f: Support(UNSUPPORTED, "refused") for f in features})


def test_cache_round_trip_is_keyed_by_what_was_checked(tmp_path: Path):
    path = tmp_path / "caps.json"
    eps = endpoints(2)
    save_cached(eps, [lacking("e1", "json_schema")], path, now=1000.0)
    found = load_cached(eps, path, now=2000.0)
    assert set(found) == {"e1"} and found["e1"].missing() == {"json_schema"}
    # Stale, or the same name pointing somewhere else: not trusted.
    assert load_cached(eps, path, now=1000.0 + 8 * 24 * 3600) == {}
    eps[1].base_url = "http://elsewhere/v1"
    assert load_cached(eps, path, now=2000.0) == {}
    # A damaged cache is as good as none.
    path.write_text("{not json")
    assert load_cached(endpoints(2), path, now=2000.0) == {}


def test_apply_stops_asking_for_logprobs_and_labels_what_is_missing():
    eps = endpoints(2)
    notes = apply_capabilities(eps, {"e1": lacking("e1", "logprobs", "seed")})
    assert eps[1].logprobs is False and eps[1].labels["lacks"] == "logprobs,seed"
    assert eps[0].logprobs is True and "lacks" not in eps[0].labels
    assert len(notes) == 1 and notes[0].startswith("e1: without logprobs, seed")


async def test_declared_missing_features_are_recorded_not_sent():
    probes = [
        Probe(id="plain", messages=[{"role": "user", "content": "hi"}]),
        Probe(id="schema", kind="json", response_format=SCHEMA),
    ]
    plan = RunPlan(endpoints(2), probes, reference_repeats=0)
    plan.capabilities = {"e1": lacking("e1", "json_schema")}
    results = await Runner(plan, client_factory=factory(), http_factory=no_http).run()
    by_key = {(r.endpoint, r.probe_id): r for r in results}
    assert len(results) == 4
    skipped = by_key[("e1", "schema")]
    assert skipped.error is not None and skipped.error.kind == "unsupported"
    assert "json_schema" in skipped.error.message and skipped.cost_usd is None
    assert ("e1", "schema", 0) not in StubClient.calls
    assert by_key[("e0", "schema")].error is None and by_key[("e1", "plain")].error is None


def test_cli_run_reads_a_capabilities_file(tmp_path: Path, sim_server, capsys):
    from vvtui.cli import main
    from vvtui.sim.ladder import sim_config_toml
    from vvtui.sim.profiles import default_profiles

    profiles = [p for p in default_profiles(20) if p.name in ("reference", "fp8")]
    config = tmp_path / "c.toml"
    config.write_text(sim_config_toml(sim_server.url, profiles))
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps([lacking("fp8", "json_schema").to_dict()]))
    out = tmp_path / "s.json"
    code = main(
        [
            "run",
            "--headless",
            "--config",
            str(config),
            "--suite",
            "json",
            "--capabilities",
            str(caps),
            "--out",
            str(out),
            "--seed",
            "3",
        ]
    )
    assert code == 0
    snap = json.loads(out.read_text())
    fp8 = [r for r in snap["results"] if r["endpoint"] == "fp8"]
    unsupported = [r for r in fp8 if r["error"] and r["error"]["kind"] == "unsupported"]
    schema_probes = {
        p["id"]
        for p in snap["probes"]
        if (p.get("response_format") or {}).get("type") == "json_schema"
    }
    assert schema_probes and {r["probe_id"] for r in unsupported} == schema_probes
    fp8_info = next(e for e in snap["endpoints"] if e["name"] == "fp8")
    assert fp8_info["labels"]["lacks"] == "json_schema"
    assert "fp8: without json_schema" in capsys.readouterr().err
    # Not counted as damage: the fidelity rests on the probes it could serve. But it is a
    # conformance gap, named on the verdict line, and no verdict of `faithful` on this suite.
    score = snap["scores"]["endpoints"]["fp8"]
    assert score["n_probes"] == len(snap["probes"]) - len(schema_probes)
    assert score["refused_probes"] == len(schema_probes)
    assert score["gaps"] == {"json_schema": len(schema_probes)}
    assert score["verdict"] != "faithful"
    assert any("no json_schema" in r for r in score["verdict_reasons"])


def _run_json_suite(config: Path, out: Path, *extra: str) -> dict:
    from vvtui.cli import main

    args = ["run", "--headless", "--quiet", "--config", str(config), "--suite", "json"]
    assert main([*args, "--seed", "7", "--out", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_endpoints_check_then_run_gives_the_verdicts_of_capabilities_off(
    tmp_path: Path, sim_server, monkeypatch, capsys
):
    """The README's sequence (`endpoints check`, then `run`) must not hide quantization damage:
    a quantized model answering a JSON request with broken JSON accepted the feature, and its
    answers count."""
    import vvtui.clients.capabilities as capabilities
    from vvtui.cli import main
    from vvtui.sim.ladder import sim_config_toml
    from vvtui.sim.profiles import default_profiles

    monkeypatch.setattr(capabilities, "default_cache_path", lambda: tmp_path / "caps.json")
    profiles = [p for p in default_profiles(20) if p.name in ("reference", "int4", "int2")]
    config = tmp_path / "c.toml"
    config.write_text(sim_config_toml(sim_server.url, profiles))
    assert main(["endpoints", "check", "--config", str(config), "--json"]) == 0
    checked = {c["endpoint"]: c["features"] for c in json.loads(capsys.readouterr().out)}
    # The damaged models answer JSON requests with text that is not JSON: ignored, not refused.
    assert checked["int2"]["json_object"]["status"] == "ignored"
    assert all(f["status"] != UNSUPPORTED for c in checked.values() for f in c.values())

    cached = _run_json_suite(config, tmp_path / "cached.json")
    off = _run_json_suite(config, tmp_path / "off.json", "--capabilities", "off")
    for snap in (cached, off):
        assert not [r for r in snap["results"] if r["error"]]
    verdicts = {
        name: (cached["scores"]["endpoints"][name]["verdict"], s["verdict"])
        for name, s in off["scores"]["endpoints"].items()
    }
    assert all(a == b for a, b in verdicts.values()), verdicts
    assert verdicts["int2"][0] == verdicts["int4"][0] == "degraded"
    for name in ("int2", "int4"):
        score = cached["scores"]["endpoints"][name]
        assert score["refused_probes"] == 0 and score["n_probes"] == len(cached["probes"])


def test_a_feature_declared_missing_in_the_config_is_a_gap(tmp_path: Path, sim_server):
    from vvtui.sim.ladder import sim_config_toml
    from vvtui.sim.profiles import default_profiles

    profiles = [p for p in default_profiles(20) if p.name in ("reference", "noisy-kernel")]
    text = sim_config_toml(sim_server.url, profiles)
    marker = 'name = "noisy-kernel"\n'
    assert marker in text
    config = tmp_path / "c.toml"
    config.write_text(text.replace(marker, marker + 'unsupported = ["json_schema"]\n'))
    snap = _run_json_suite(config, tmp_path / "s.json", "--capabilities", "off")
    score = snap["scores"]["endpoints"]["noisy-kernel"]
    refused = [
        r
        for r in snap["results"]
        if r["endpoint"] == "noisy-kernel" and r["error"] and r["error"]["kind"] == "unsupported"
    ]
    assert refused and score["refused_probes"] == len(refused)
    # Same weights as the reference on what it took, but not faithful on a suite it could not
    # take whole.
    assert score["fidelity"] > 95 and score["verdict"] == "inconclusive"
    assert score["verdict_reasons"][0].startswith(f"{len(refused)} probes refused, not measured")


def test_an_unknown_feature_in_the_config_is_named(tmp_path: Path):
    from vvtui.config import load_config
    from vvtui.errors import ConfigError

    config = tmp_path / "c.toml"
    config.write_text(
        '[[endpoint]]\nname = "a"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        'unsupported = ["json_shema"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert "json_shema" in str(caught.value) and "c.toml" in str(caught.value)
