"""The TUI's model of a run: what the runner's callback does (cheap, no drawing, no scoring) and
what the panes ask of it."""

from __future__ import annotations

from pathlib import Path

from tests.tuitools import fixture_snapshot
from vvtui.clients.events import Failed, TextDelta
from vvtui.model import ErrorInfo, Result
from vvtui.runner.events import (
    JobKey,
    RequestStarted,
    ResultReady,
    RunFinished,
    RunStarted,
    StreamEvent,
)
from vvtui.scoring import score_snapshot
from vvtui.tui.controller import RunController, numbered
from vvtui.tui.messages import ResultsArrived, RunPhaseChanged
from vvtui.tui.state import RunModel


def fresh_model() -> RunModel:
    snap = fixture_snapshot()
    return RunModel(list(snap.probes), list(snap.endpoints))


def test_tokens_go_to_buffers_and_results_wait_for_scoring() -> None:
    model = fresh_model()
    key = JobKey("int4", "quant-arith-chain")
    model.on_event(RunStarted(total=3, per_endpoint={"int4": 3}))
    model.on_event(RequestStarted(key))
    slot = ("int4", "quant-arith-chain", 0)
    assert model.slot_status(slot).state == "streaming"
    for piece in ("30", "60"):
        model.on_event(StreamEvent(key, TextDelta(0.0, piece)))
    assert model.streams[slot].text == "3060"
    assert model.slot_status(slot).detail == "2 tok"
    assert slot in model.dirty_slots
    result = Result("int4", "quant-arith-chain", text="3060")
    model.on_event(ResultReady(result, done=1, total=3))
    # Stored and shown at once, but not scored inside the runner's callback.
    assert model.results[slot] is result and slot not in model.streams
    assert model.unscored == [result]
    assert model.comparison("int4", "quant-arith-chain") is None
    assert model.score_pending(budget_s=None)
    assert model.unscored == [] and "int4" in model.dirty_endpoints


def test_failures_show_in_the_status_with_their_reason() -> None:
    model = fresh_model()
    key = JobKey("fp8", "quant-copy-digits")
    model.on_event(RequestStarted(key))
    model.on_event(StreamEvent(key, Failed(0.0, ErrorInfo("stall", "no bytes for 30 s"))))
    status = model.slot_status(("fp8", "quant-copy-digits", 0))
    assert (status.state, status.detail) == ("error", "stall: no bytes for 30 s")
    model.on_event(RunFinished(cancelled=True, done=0, total=1))
    assert model.phase == "cancelled"
    assert model.slot_status(("pricey", "quant-copy-digits", 0)).state == "cancelled"


def test_reference_repeats_are_scored_but_never_shown() -> None:
    model = fresh_model()
    key = JobKey("reference", "quant-arith-chain", repeat=1)
    model.on_event(RequestStarted(key))
    model.on_event(StreamEvent(key, TextDelta(0.0, "x")))
    assert model.streams == {} and model.frontier is None
    repeat = Result("reference", "quant-arith-chain", repeat=1, text="x")
    model.on_event(ResultReady(repeat, done=1, total=1))
    assert model.results == {} and model.unscored == [repeat]


def test_frontier_follows_the_reference() -> None:
    model = fresh_model()
    model.on_event(RequestStarted(JobKey("int2", "quant-code-trace")))
    assert model.frontier is None
    model.on_event(RequestStarted(JobKey("reference", "quant-copy-digits")))
    assert model.frontier == "quant-copy-digits"


def test_scoring_in_slices_reaches_the_same_scores() -> None:
    snap = fixture_snapshot()
    model = RunModel(list(snap.probes), list(snap.endpoints))
    for i, result in enumerate(snap.results, 1):
        model.on_event(ResultReady(result, done=i, total=len(snap.results)))
    slices = 0
    while model.unscored:
        model.score_pending(budget_s=0.0)  # one small batch per call
        slices += 1
    assert slices > 1
    report = score_snapshot(snap)
    for name, score in report.endpoints.items():
        live = model.scores[name]
        assert live.n_results == score.n_results
        assert live.errors == score.errors
    model.set_final(report)
    assert model.scores == report.endpoints
    for pid in model.probe_ids:
        assert model.marks(pid) == {
            n: report.probes.get(pid, {}).get(n, {}).get("mark", "pending")
            for n in model.endpoint_names
        }


class Target:
    def __init__(self) -> None:
        self.posted: list[object] = []

    def post_message(self, message: object) -> bool:
        self.posted.append(message)
        return True


def test_the_runner_callback_posts_no_message_per_token(tmp_path: Path) -> None:
    snap = fixture_snapshot()
    controller = RunController(snapshot=snap, export_dir=tmp_path)
    controller.model = RunModel(list(snap.probes), list(snap.endpoints))
    target = Target()
    controller.target = target  # type: ignore[assignment]
    key = JobKey("fp8", "quant-arith-chain")
    controller._on_event(RunStarted(total=1, per_endpoint={"fp8": 1}))
    controller._on_event(RequestStarted(key))
    for _ in range(500):
        controller._on_event(StreamEvent(key, TextDelta(0.0, "a")))
    controller._on_event(ResultReady(Result("fp8", "quant-arith-chain", text="a"), 1, 1))
    controller._on_event(RunFinished(cancelled=False, done=1, total=1))
    kinds = [type(m) for m in target.posted]
    assert kinds == [RunPhaseChanged, ResultsArrived, RunPhaseChanged]
    # A burst of result messages collapses into the newest.
    first, second = ResultsArrived(1, 9), ResultsArrived(2, 9)
    assert first.can_replace(second)
    assert not first.can_replace(RunPhaseChanged("running"))


def test_rerun_snapshots_are_numbered() -> None:
    assert numbered(Path("out/snap.json"), 1) == Path("out/snap.json")
    assert numbered(Path("out/snap.json"), 3) == Path("out/snap-3.json")


def test_a_replayed_snapshot_is_final_and_saved(tmp_path: Path) -> None:
    snap = fixture_snapshot()
    controller = RunController(snapshot=snap, export_dir=tmp_path)
    model = controller.model
    assert model.phase == "finished" and model.final is not None
    assert not controller.unsaved and controller.replay
    assert len(model.results) == len([r for r in snap.results if not r.repeat])


def test_the_model_says_when_the_conformance_checks_are_under_way() -> None:
    from vvtui.runner.events import ConformanceReady

    model = fresh_model()
    model.checking = True  # what the controller sets when the plan asks for checks first
    model.on_event(ConformanceReady({}, model.reference, ""))
    assert not model.checking
    model.checking = True
    model.on_event(RunStarted(total=3, per_endpoint={"int4": 3}))  # no checks event: stale
    assert not model.checking
