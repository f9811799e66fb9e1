"""Features an endpoint declared it lacks (`vvtui endpoints check`) shape the run: its probes
needing them are recorded as unsupported without being sent, and never count against it."""

from __future__ import annotations

import json
from pathlib import Path

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
from vvtui.runner.core import Runner, RunPlan

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
    assert len(notes) == 1 and notes[0].startswith("e1: declared without logprobs, seed")


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
    assert "declared without json_schema" in capsys.readouterr().err
    # Not counted against it: the fidelity rests on the probes it could serve.
    score = snap["scores"]["endpoints"]["fp8"]
    assert score["n_probes"] == len(snap["probes"]) - len(schema_probes)
