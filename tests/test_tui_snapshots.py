"""What the screen looks like, frame for frame (pytest-textual-snapshot; update the baselines
with `pytest tests/test_tui_snapshots.py --snapshot-update` and look at the report).

Frames come from a saved run (tests/data/tui/quick-ladder.json) replayed, plus, for the mid-run
frame, answers fed into the model as the runner would feed them: no timing, no network, no
simulator noise in any frame.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.tuitools import fixture_snapshot, replay_app
from vvtui.clients.events import TextDelta
from vvtui.model import Snapshot
from vvtui.runner.events import JobKey, RequestStarted, StreamEvent
from vvtui.scoring import score_snapshot

DIVERGING_PROBE = "quant-copy-digits"
LIVE_PROBE = "json-schema-invoice"


def only(snapshot: Snapshot, names: list[str]) -> Snapshot:
    """The same run restricted to some endpoints, re-scored."""
    snap = dataclasses.replace(
        snapshot,
        endpoints=[e for e in snapshot.endpoints if e.name in names],
        results=[r for r in snapshot.results if r.endpoint in names],
    )
    snap.scores = score_snapshot(snap).to_dict()
    return snap


def show(probe_id: str):
    async def run_before(pilot) -> None:
        pilot.app.screen._show_probe(probe_id)
        await pilot.pause()

    return run_before


def test_finished_four_endpoints_120x36(snap_compare, tmp_path: Path) -> None:
    snap = only(fixture_snapshot(), ["reference", "fp8", "int4", "int2"])
    app = replay_app(tmp_path, snap)
    assert snap_compare(app, terminal_size=(120, 36), run_before=show(DIVERGING_PROBE))


def test_conformance_line_and_column_120x36(snap_compare, tmp_path: Path) -> None:
    """A host whose tokens match but whose bill does not: the pane's conformance line names the
    failed check and the scoreboard's column marks it."""
    from vvtui.scoring import conformance as cf

    snap = only(fixture_snapshot(), ["reference", "fp8", "int4", "int2"])
    settings = cf.Settings(context_fact="amber-1234")
    passing = {name: cf.Outcome(cf.PASS, "ok") for name in cf.CHECKS}
    billed = dict(passing, usage=cf.Outcome(cf.FAIL, "prompt_tokens 59 vs the reference's 15"))
    cost = {"requests": 14, "prompt_tokens": 6745, "completion_tokens": 560}
    for e in snap.endpoints:
        e.conformance = cf.record(billed if e.name == "fp8" else passing, cost, settings)
    snap.scores = score_snapshot(snap).to_dict()
    app = replay_app(tmp_path, snap)
    assert snap_compare(app, terminal_size=(120, 36), run_before=show(DIVERGING_PROBE))


def test_finished_ladder_200x50(snap_compare, tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    assert snap_compare(app, terminal_size=(200, 50), run_before=show(DIVERGING_PROBE))


def test_mid_run_ladder_120x36(snap_compare, tmp_path: Path) -> None:
    full = fixture_snapshot()
    order = [p.id for p in full.probes]
    cut = order.index(LIVE_PROBE)
    partial = dataclasses.replace(
        full,
        results=[r for r in full.results if order.index(r.probe_id) < cut and not r.repeat],
        scores={},
        run=dataclasses.replace(full.run, complete=False),
    )
    final = {r.endpoint: r.text for r in full.results if r.probe_id == LIVE_PROBE}
    app = replay_app(tmp_path, partial)

    async def run_before(pilot) -> None:
        model = pilot.app.controller.model
        model.phase = "running"
        model.total = len(full.results)
        for i, name in enumerate(model.endpoint_names):
            key = JobKey(name, LIVE_PROBE)
            model.on_event(RequestStarted(key))
            if i % 4 == 3:
                continue  # still waiting for its first token
            # Each endpoint part-way through its answer, as streamed chunks; the reference
            # furthest, so the live divergence marks have something to compare with.
            text = final[name][: 40 - 3 * i]
            for start in range(0, len(text), 5):
                model.on_event(StreamEvent(key, TextDelta(0.0, text[start : start + 5])))
        pilot.app.screen._show_probe(LIVE_PROBE)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    app = replay_app(tmp_path)
    assert snap_compare(app, terminal_size=(120, 36), press=["question_mark"])


def test_light_theme(snap_compare, tmp_path: Path) -> None:
    app = replay_app(tmp_path, config_theme="vvtui-light")
    assert snap_compare(app, terminal_size=(120, 36), run_before=show(DIVERGING_PROBE))


def test_until_decided_ladder_120x36(snap_compare, tmp_path: Path) -> None:
    """An --until-decided run: each candidate's pane says what its verdict cost or why it
    stopped receiving probes."""
    from vvtui.scoring.decide import StoppingRule, replay

    snap = replay(fixture_snapshot(), StoppingRule())
    app = replay_app(tmp_path, snap)
    assert snap_compare(app, terminal_size=(120, 36), run_before=show(DIVERGING_PROBE))
