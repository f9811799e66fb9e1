"""What the fidelity could not see, on screen: a pane names the features an endpoint refused,
marks an answer cut short where it was cut, and its verdict line says what capped the verdict;
the scoreboard flags both."""

from __future__ import annotations

from pathlib import Path

from tests.tuitools import replay_app, wait_until
from vvtui.model import EndpointInfo, Probe, RunInfo, Snapshot
from vvtui.scoring import score_snapshot
from vvtui.sim.synthetic import make_result
from vvtui.tui.screens.main import MainScreen
from vvtui.tui.widgets.pane import EndpointPane
from vvtui.tui.widgets.scoreboard import Scoreboard, cell_texts

LONG = [f" w{i}" for i in range(120)]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}


def gapped_snapshot() -> Snapshot:
    probes = [Probe(id=f"p{i}", max_tokens=256) for i in range(8)]
    probes.append(Probe(id="schema", kind="json", response_format=SCHEMA, max_tokens=16))
    results = []
    for probe in probes[:8]:
        results.append(make_result("ref", probe.id, LONG))
        if probe.id == "p0":
            results.append(make_result("host", "p0", LONG[:61], finish_reason="length"))
        else:
            results.append(make_result("host", probe.id, LONG))
    results.append(make_result("ref", "schema", ['{"a": 1}']))
    results.append(make_result("host", "schema", [], error="unsupported"))
    snap = Snapshot(
        vvtui_version="test",
        created_at="2025-01-01T00:00:00Z",
        run=RunInfo(seed=1, reference_repeats=0, complete=True),
        endpoints=[
            EndpointInfo("ref", "m", "http://ref", reference=True),
            EndpointInfo("host", "m", "http://host"),
        ],
        probes=probes,
        results=results,
    )
    snap.scores = score_snapshot(snap).to_dict()
    return snap


def line(pane: EndpointPane, selector: str) -> str:
    return str(pane.query_one(selector).render())


async def test_a_pane_shows_gaps_cuts_and_what_capped_the_verdict(tmp_path: Path) -> None:
    snap = gapped_snapshot()
    score = snap.scores["endpoints"]["host"]
    assert score["verdict"] == "inconclusive" and score["fidelity"] > 85
    app = replay_app(tmp_path, snap)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        host = next(p for p in screen.query(EndpointPane) if p.info.name == "host")
        screen._show_probe("p0")
        await wait_until(pilot, lambda: "✂ cut at token 61" in host.status_text)
        assert "no json_schema" in line(host, "#header")
        trend = line(host, "#trend")
        assert "inconclusive · 1 probe refused" in trend
        board = screen.query_one(Scoreboard)
        assert cell_texts(board.scores["host"])["conformance"] == "⊘1 ✂1"
