"""The whole pipeline over real loopback HTTP: suites → runner → OpenAI client → simulator →
scoring → snapshot. One full run of every shipped suite against the default ladder is shared by
the module's tests (it takes seconds at test speed)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
from pathlib import Path

import pytest

from vvtui.config import Config
from vvtui.model import Snapshot
from vvtui.runner.plan import build_plan
from vvtui.runner.session import RunSession
from vvtui.scoring import Scorer, run_checks, score_snapshot
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import Profile, default_profiles
from vvtui.storage import load_snapshot

SPEED = 20.0


def run(config: Config, out: Path | None, suites: list[str], seed: int = 7, **kw) -> Snapshot:
    plan, info = build_plan(config, suites=suites, seed=seed, **kw)
    return asyncio.run(RunSession(plan, info, out=out).run())


@pytest.fixture(scope="module")
def ladder_run(tmp_path_factory) -> tuple[Snapshot, Path]:
    from vvtui.sim.server import start_sim

    profiles = default_profiles(SPEED)
    server = start_sim(profiles)
    try:
        out = tmp_path_factory.mktemp("ladder") / "snap.json"
        snapshot = run(ladder_config(server.url, profiles), out, ["all"])
    finally:
        server.stop()
    return snapshot, out


def test_every_probe_answered_by_every_endpoint(ladder_run):
    snapshot, out = ladder_run
    assert len(snapshot.endpoints) >= 8
    assert snapshot.run.complete
    main = {(r.endpoint, r.probe_id, r.sample) for r in snapshot.results if r.repeat == 0}
    for e in snapshot.endpoints:
        for p in snapshot.probes:
            for s in range(p.n_samples):
                assert (e.name, p.id, s) in main, (e.name, p.id, s)
    assert all(r.error is None for r in snapshot.results)
    # The file on disk is the same snapshot, complete, and the write-ahead log is gone.
    on_disk = load_snapshot(out)
    assert len(on_disk.results) == len(snapshot.results)
    assert not Path(str(out) + ".wal.jsonl").exists()


def test_ladder_is_ordered_by_fidelity(ladder_run):
    scores = ladder_run[0].scores["endpoints"]
    fid = {name: s["fidelity"] for name, s in scores.items()}
    assert fid["reference"] > fid["fp8"] > fid["int4"] > fid["int2"], fid
    noisy = scores["noisy-kernel"]
    assert noisy["verdict"] == "faithful" or noisy["ci_high"] >= 90, noisy
    assert scores["substituted"]["verdict"] == "degraded"
    assert scores["int2"]["verdict"] == "degraded"
    # Faithful-but-slow and faithful-but-expensive endpoints are faithful; their cost shows.
    assert scores["slow"]["verdict"] == "faithful" and scores["pricey"]["verdict"] == "faithful"
    assert scores["pricey"]["cost_usd"] > scores["reference"]["cost_usd"] / 2
    assert scores["slow"]["ttft_p50"] > scores["reference"]["ttft_p50"]


def test_stored_scores_equal_a_rescore(ladder_run):
    snapshot, out = ladder_run
    rescored = score_snapshot(load_snapshot(out)).to_dict()
    assert json.dumps(rescored, sort_keys=True) == json.dumps(snapshot.scores, sort_keys=True)


def test_incremental_scorer_matches_the_final_scores(ladder_run):
    snapshot, _ = ladder_run
    scorer = Scorer(snapshot.probes, snapshot.endpoints)
    for result in snapshot.results:
        scorer.add(result)
    final = scorer.finalize().to_dict()
    assert final["endpoints"] == snapshot.scores["endpoints"]


def test_logprobs_tokens_and_usage_recorded(ladder_run):
    snapshot, _ = ladder_run
    logprob_probes = {p.id for p in snapshot.probes if p.kind == "logprob"}
    ref = [r for r in snapshot.results if r.endpoint == "reference" and r.repeat == 0]
    for r in ref:
        if r.text:
            assert r.tokens is not None and "".join(r.tokens.text) == r.text
        assert r.usage is not None and not r.usage_estimated
        assert r.ttft_s is not None and r.total_s is not None and r.ttft_s <= r.total_s
        if r.probe_id in logprob_probes:
            assert r.tokens.top is not None and all(len(row) >= 2 for row in r.tokens.top)
    tool = [r for r in ref if r.tool_calls]
    assert tool and all(json.loads(t.arguments) is not None for r in tool for t in r.tool_calls)


def test_shipped_probes_pass_their_own_checks_on_a_clean_reference(sim_server_factory):
    """Every deterministic shipped probe is answerable: the simulated reference, without its
    batching noise, passes every check of every probe (issue: probes are satisfiable)."""
    profiles = [dataclasses.replace(default_profiles(SPEED)[0], request_sigma=0.0)]
    server = sim_server_factory(profiles)
    snapshot = run(ladder_config(server.url, profiles), None, ["all"], reference_repeats=0)
    probes = {p.id: p for p in snapshot.probes}
    failures = []
    for r in snapshot.results:
        probe = probes[r.probe_id]
        if not probe.deterministic:
            continue
        for outcome in run_checks(probe, r):
            if not outcome.passed:
                failures.append(f"{r.probe_id}: {outcome.type}: {outcome.detail} ({r.text!r})")
    assert not failures, "\n".join(failures)
    assert sum(p.deterministic for p in probes.values()) >= 60


def test_ttft_and_rate_follow_the_simulated_values():
    """The client's stamps match the simulator's pacing. Timing on a shared machine is noisy, so
    the upper bound uses the best of several requests (noise only ever adds delay); the
    benchmarks report medians and p90s."""
    from vvtui.sim.process import start_sim_process

    profile = Profile(
        "steady", "fixed pacing", ttft_s=0.2, tokens_per_s=50.0, jitter=0.0, label="steady"
    )
    with start_sim_process([profile]) as server:
        config = ladder_config(server.url, [profile])
        config.endpoints[0].max_concurrency = 1
        snapshot = run(config, None, ["quick"], reference_repeats=0)
    ttfts = [r.ttft_s for r in snapshot.results]
    rates = [r.tokens_per_s for r in snapshot.results if r.tokens_per_s]
    assert min(ttfts) >= 0.2 - 0.001  # never earlier than the server sent it
    assert min(abs(t - 0.2) for t in ttfts) <= 0.010, ttfts
    assert rates and abs(statistics.median(rates) - 50.0) / 50.0 < 0.2, rates
