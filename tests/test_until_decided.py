"""`--until-decided` over real loopback HTTP: endpoints stop once decided or out of budget, the
reference answers only what someone needs, and the snapshot re-scores to the same verdicts."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path

import pytest

from vvtui.cli.run_cmd import stopping_rule
from vvtui.config import Config, RunDefaults
from vvtui.errors import UsageError
from vvtui.model import Snapshot
from vvtui.runner.events import EndpointStopped, RunEvent
from vvtui.runner.plan import build_plan
from vvtui.runner.session import RunSession
from vvtui.scoring import score_snapshot
from vvtui.scoring.decide import DECIDED, EXHAUSTED, FUTILE, MAX_PROBES, StoppingRule
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import default_profiles
from vvtui.storage import load_snapshot

SPEED = 20.0
PROFILES = ("reference", "noisy-kernel", "int2")


def _run(out: Path | None, rule: StoppingRule, events: list[RunEvent] | None = None) -> Snapshot:
    from vvtui.sim.server import start_sim

    profiles = [p for p in default_profiles(SPEED) if p.name in PROFILES]
    server = start_sim(profiles)
    try:
        config = ladder_config(server.url, profiles)
        plan, info = build_plan(config, suites=["all"], seed=7, until_decided=rule)
        session = RunSession(plan, info, out=out, on_event=events.append if events else None)
        return asyncio.run(session.run())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def decided(tmp_path_factory) -> tuple[Snapshot, Path, list[RunEvent]]:
    out = tmp_path_factory.mktemp("decided") / "snap.json"
    events: list[RunEvent] = [EndpointStopped("", "", 0, 0, None, "")]  # non-empty: collect
    snapshot = _run(out, StoppingRule(), events)
    return snapshot, out, events[1:]


def _requests(snapshot: Snapshot) -> Counter[str]:
    return Counter(r.endpoint for r in snapshot.results if r.repeat == 0)


def test_a_degraded_endpoint_stops_early_and_a_faithful_one_is_never_called_degraded(decided):
    snapshot, _, _ = decided
    scores = snapshot.scores["endpoints"]
    suite_requests = sum(max(1, p.n_samples) for p in snapshot.probes)
    assert scores["int2"]["verdict"] == "degraded"
    assert _requests(snapshot)["int2"] < suite_requests / 4
    assert scores["noisy-kernel"]["verdict"] != "degraded"


def test_the_snapshot_records_rule_order_and_why_each_endpoint_stopped(decided):
    snapshot, _, events = decided
    record = snapshot.run.stopping
    assert record is not None and record["rule"]["name"] == "confidence-sequence"
    assert sorted(record["order"]) == sorted(p.id for p in snapshot.probes)
    assert record["order"] != [p.id for p in snapshot.probes]
    stopped = record["stopped"]
    assert set(stopped) == {"noisy-kernel", "int2"}
    assert stopped["int2"]["reason"] == DECIDED and stopped["int2"]["verdict"] == "degraded"
    assert stopped["noisy-kernel"]["reason"] in (DECIDED, FUTILE, EXHAUSTED)
    assert stopped["int2"]["requests"] == _requests(snapshot)["int2"]
    # The run said so as it happened.
    assert any(isinstance(e, EndpointStopped) and e.endpoint == "int2" for e in events)


def test_each_endpoint_walks_the_recorded_order(decided):
    snapshot, _, _ = decided
    order = snapshot.run.stopping["order"]
    for name in PROFILES:
        sent = {r.probe_id for r in snapshot.results if r.endpoint == name}
        positions = sorted(order.index(pid) for pid in sent)
        # A prefix of the order, give or take the requests in flight when it stopped.
        assert positions[-1] < len(positions) + 8


def test_the_reference_answers_only_what_a_candidate_was_sent(decided):
    snapshot, _, _ = decided
    asked = {r.probe_id for r in snapshot.results if r.endpoint != "reference"}
    answered = {r.probe_id for r in snapshot.results if r.endpoint == "reference"}
    assert answered <= asked
    assert len(answered) < len(snapshot.probes)


def test_rescoring_the_file_reproduces_verdicts_and_decisions(decided):
    snapshot, out, _ = decided
    again = score_snapshot(load_snapshot(out)).to_dict()
    for name in PROFILES:
        assert again["endpoints"][name]["verdict"] == snapshot.scores["endpoints"][name]["verdict"]
    assert again["decisions"] == snapshot.scores["decisions"]
    int2 = again["decisions"]["int2"]
    assert int2["interval"] == "confidence_sequence" and int2["decided_after"] is not None
    cost = int2["cost_to_verdict"]
    assert 0 < cost["requests"] <= _requests(snapshot)["int2"]
    assert cost["usd"] > 0 and cost["output_tokens"] > 0


def test_a_probe_budget_stops_an_endpoint_inconclusive(tmp_path):
    snapshot = _run(tmp_path / "b.json", StoppingRule(max_probes=6))
    stopped = snapshot.run.stopping["stopped"]
    # Six probes cannot certify a faithful endpoint: it stops when no outcome of the rest of its
    # budget could decide it, or when the budget is spent.
    assert stopped["noisy-kernel"]["reason"] in (MAX_PROBES, FUTILE)
    assert snapshot.scores["endpoints"]["noisy-kernel"]["verdict"] == "inconclusive"
    sent = {r.probe_id for r in snapshot.results if r.endpoint == "noisy-kernel"}
    assert 1 <= len(sent) <= 6


def _args(**kw) -> argparse.Namespace:
    base = {"until_decided": False, "max_probes": None, "max_cost": None, "max_total_cost": None}
    return argparse.Namespace(**(base | kw))


def test_the_rule_comes_from_flags_or_config_and_rejects_nonsense() -> None:
    config = Config(endpoints=[])
    assert stopping_rule(_args(), config) is None
    assert stopping_rule(_args(until_decided=True), config) == StoppingRule()
    assert stopping_rule(_args(max_cost=0.5), config).max_cost_usd == 0.5
    config.run = RunDefaults(until_decided=True)
    assert stopping_rule(_args(), config) is not None
    with pytest.raises(UsageError, match="--max-probes 0"):
        stopping_rule(_args(max_probes=0), config)
    with pytest.raises(UsageError, match="--max-total-cost"):
        stopping_rule(_args(max_total_cost=-1.0), config)


def test_the_tui_model_says_what_each_verdict_cost() -> None:
    from tests.tuitools import fixture_snapshot
    from vvtui.scoring.decide import replay
    from vvtui.tui.state import RunModel

    snap = replay(fixture_snapshot(), StoppingRule())
    model = RunModel.from_snapshot(snap)
    notes = {name: model.decision_note(name) for name in model.endpoint_names}
    assert notes["reference"] is None
    assert notes["int2"] is not None and notes["int2"].startswith("decided after ")
    assert "$" in notes["int2"]
    # Eleven probes cannot certify a faithful endpoint: it says why it stopped.
    assert notes["fp8"] == "budget cannot decide: inconclusive"
    assert notes["slow"] == "sent every probe: faithful"
    # A full run has no such line.
    assert RunModel.from_snapshot(fixture_snapshot()).decision_note("int2") is None


def test_headless_progress_says_why_an_endpoint_stopped() -> None:
    import io

    from vvtui.cli.headless import Progress
    from vvtui.runner.events import RunStarted

    out = io.StringIO()
    progress = Progress(stream=out)
    progress(RunStarted(total=10, per_endpoint={"int2": 10}))
    progress(EndpointStopped("int2", DECIDED, 9, 11, 0.00012, "degraded"))
    progress(EndpointStopped("fp8", FUTILE, 30, 39, None, "inconclusive"))
    text = out.getvalue()
    assert "int2: degraded (decided after 9 probes, 11 requests, $0.00012)" in text
    assert "fp8: no more probes: its budget cannot decide it (30 probes, 39 requests)" in text


def test_a_damaged_stopping_record_is_a_one_line_snapshot_error() -> None:
    from vvtui.errors import SnapshotError
    from vvtui.scoring.decide import StoppingRecord

    with pytest.raises(SnapshotError, match=r"run\.stopping: rule\.alpha must be a number"):
        StoppingRecord.from_dict({"rule": {"alpha": "x"}})
    with pytest.raises(SnapshotError, match=r"run\.stopping"):
        StoppingRecord.from_dict({"stopped": [1]})
