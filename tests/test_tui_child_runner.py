"""The TUI's run in a process of its own (`vvtui.runner.child`): the screen gets the same events,
cancel / quit-with-save / re-run still work, and a runner process that dies is reported while
what it sent is kept."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_SPEED
from tests.tuitools import MINI, finished, sim_app, wait_until
from vvtui.clients.events import Retrying, TextDelta, TokenLogprob
from vvtui.errors import ProbeError
from vvtui.runner import wire
from vvtui.runner.child_session import ChildSession, RunnerFailed
from vvtui.runner.events import JobKey, ResultReady, StreamEvent
from vvtui.runner.plan import build_plan
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import default_profiles
from vvtui.storage import load_snapshot
from vvtui.tui.document import LiveText
from vvtui.tui.screens.unsaved import UnsavedScreen

LADDER = default_profiles(TEST_SPEED)


@dataclass(slots=True, frozen=True)
class EndpointWentDown:
    """An event type the transport has never heard of: it must cross all the same."""

    endpoint: str
    reason: str


def test_any_event_dataclass_crosses_whole_in_reads_of_any_size() -> None:
    events = [
        StreamEvent(
            JobKey("int4", "p1"),
            TextDelta(12.5, " café", [TokenLogprob(" café", -0.25, [32, 99], [(" cafe", -1.5)])]),
        ),
        EndpointWentDown("fp8", "5 errors in a row"),
    ]
    data = wire.encode(wire.EVENTS, (events, 1.5)) + wire.encode(wire.CANCEL)
    for size in (1, 3, 7, len(data)):
        reader = wire.FrameReader()
        frames = []
        for i in range(0, len(data), size):
            frames += reader.feed(data[i : i + size])
        assert frames == [(wire.EVENTS, (events, 1.5)), (wire.CANCEL, None)]
        assert reader.pending == 0


def test_a_batch_joins_each_requests_text_and_keeps_order_stamps_and_counts() -> None:
    a, b = JobKey("int4", "p1"), JobKey("fp8", "p1")

    def delta(key: JobKey, t: float, text: str, tokens: int = 1) -> StreamEvent:
        logprobs = [TokenLogprob(text, -0.5, None, [(text, -0.5)])] * tokens
        return StreamEvent(key, TextDelta(t, text, logprobs))

    retry = StreamEvent(a, Retrying(3.5, 2, 0.5, "503"))
    batch = [
        delta(a, 1.0, "He"),
        delta(b, 1.5, "Bon"),
        delta(a, 2.0, "llo", 2),
        retry,  # any other event ends the runs: what follows starts new ones
        delta(a, 4.0, " you"),
        StreamEvent(b, TextDelta(5.0, "jour")),  # no logprobs: one token
    ]
    out = wire.compact(batch)
    assert [(e.key, type(e.event).__name__) for e in out] == [
        (a, "TextRun"),
        (b, "TextRun"),
        (a, "Retrying"),
        (a, "TextRun"),
        (b, "TextRun"),
    ]
    runs = [e.event for e in out if isinstance(e.event, wire.TextRun)]
    assert [(r.t, r.text, r.count, r.tokens) for r in runs] == [
        (1.0, "Hello", 3, None),  # the first delta's stamp; the tokens counted, not carried
        (1.5, "Bon", 1, None),
        (4.0, " you", 1, None),
        (5.0, "jour", 1, None),
    ]
    # What the screen makes of it is what it made of the deltas one by one.
    one_by_one, joined = LiveText(), LiveText()
    for event in batch:
        if event.key == a:
            one_by_one.feed(event.event)
    for event in out:
        if event.key == a:
            joined.feed(event.event)
    assert (joined.flush(), joined.tokens, joined.retry) == (
        one_by_one.flush(),
        one_by_one.tokens,
        one_by_one.retry,
    )
    frames = wire.FrameReader().feed(wire.encode(wire.EVENTS, (out, 0.0)))
    assert frames == [(wire.EVENTS, (out, 0.0))]


def _session(sim_server, tmp_path: Path, names: tuple[str, ...], **kw) -> ChildSession:
    profiles = [p for p in LADDER if p.name in names]
    plan, info = build_plan(
        ladder_config(sim_server.url, profiles), suites=[MINI], seed=7, command="test"
    )
    return ChildSession(plan, info, **kw)


async def test_a_child_run_writes_its_files_and_hands_over_every_result(
    sim_server, tmp_path: Path
) -> None:
    out = tmp_path / "snap.json"
    seen = []
    session = _session(sim_server, tmp_path, ("reference", "int4"), out=out, on_event=seen.append)
    snapshot = await session.run()
    assert session.process is not None and session.process.returncode == 0
    assert snapshot.run.complete and snapshot.run.finished_at
    on_disk = load_snapshot(out)  # the child's write-ahead log and snapshot writer
    assert [r.key for r in on_disk.results] == [r.key for r in snapshot.results]
    assert not out.with_name(out.name + ".wal.jsonl").exists()
    streamed = [e for e in seen if isinstance(e, StreamEvent)]
    assert streamed and all(e.event.t > 0 for e in streamed)
    assert session.child_cpu_s > 0


async def test_a_child_that_cannot_write_says_why(sim_server, tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    session = _session(sim_server, tmp_path, ("reference",), out=tmp_path / "dir.json")
    with pytest.raises(RunnerFailed, match="is a directory"):
        await session.run()


async def test_the_tui_runs_in_a_child_and_cancel_stops_it(sim_server_factory, tmp_path) -> None:
    profiles = default_profiles(2.0)[:2]  # slow enough to be caught mid-run
    server = sim_server_factory(profiles)
    out = tmp_path / "snap.json"
    app = sim_app(server, profiles, tmp_path, suites=["all"], out=out)
    async with app.run_test(size=(120, 36)) as pilot:
        controller = app.controller
        model = controller.model
        await wait_until(pilot, lambda: model.done >= 2)
        session = controller.session
        assert isinstance(session, ChildSession) and session.process is not None
        assert session.process.pid != os.getpid()
        await pilot.press("c")
        await wait_until(pilot, lambda: finished(app))
        assert model.phase == "cancelled"
        assert session.process.poll() == 0
    saved = load_snapshot(out)
    assert not saved.run.complete and saved.scores
    assert 2 <= len(saved.results) < model.total
    assert {r.key for r in saved.results} == {r.key for r in session.results}


async def test_quit_mid_run_saves_what_arrived(sim_server_factory, tmp_path: Path) -> None:
    profiles = default_profiles(2.0)[:2]
    server = sim_server_factory(profiles)
    app = sim_app(server, profiles, tmp_path, suites=["all"])
    async with app.run_test(size=(120, 36)) as pilot:
        model = app.controller.model
        await wait_until(pilot, lambda: model.done >= 2)
        await pilot.press("q")  # stops the run, then asks about the unsaved answers
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedScreen), timeout=20)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.return_code is not None, timeout=20)
    (saved,) = (tmp_path / "exports").glob("vvtui-*.json")
    snap = load_snapshot(saved)
    assert not snap.run.complete and snap.scores
    assert len(snap.results) >= 2


async def test_a_killed_runner_is_reported_and_what_arrived_is_kept(
    sim_server_factory, tmp_path: Path
) -> None:
    profiles = default_profiles(2.0)[:2]
    server = sim_server_factory(profiles)
    out = tmp_path / "snap.json"
    app = sim_app(server, profiles, tmp_path, suites=["all"], out=out)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        controller = app.controller
        model = controller.model
        await wait_until(pilot, lambda: model.done >= 3)
        session = controller.session
        assert isinstance(session, ChildSession) and session.process is not None
        os.kill(session.process.pid, signal.SIGKILL)
        await wait_until(pilot, lambda: not controller.running, timeout=20)
        await pilot.pause(0.2)
        assert model.phase == "failed"
        assert model.error is not None and "killed by SIGKILL" in model.error
        kept = len(session.results)
        assert kept >= 3 and f"{kept} answers" in model.error
        assert not model.streams  # nothing is shown as still streaming
        messages = "\n".join(n.message for n in app._notifications)
        assert "runner process died" in messages
        assert "failed" in str(app.screen.query_one("#runbar").render())
    # What arrived was scored and written where the run was going; the child's log stays.
    saved = load_snapshot(out)
    assert not saved.run.complete and saved.scores and len(saved.results) == kept
    assert out.with_name(out.name + ".wal.jsonl").exists()


async def test_the_inline_runner_is_still_there(sim_server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VVTUI_RUNNER", "inline")
    profiles = [p for p in LADDER if p.name in ("reference", "fp8")]
    app = sim_app(sim_server, profiles, tmp_path, suites=[MINI])
    assert not app.controller.child_runner
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=60)
        assert not isinstance(app.controller.session, ChildSession)
        assert app.controller.snapshot is not None and app.controller.snapshot.run.complete


async def test_the_demo_shows_its_screen_before_the_simulator_is_up(
    sim_server, tmp_path: Path
) -> None:
    import threading

    from vvtui.tui import prepared_app
    from vvtui.tui.screens.main import MainScreen
    from vvtui.tui.screens.starting import StartingScreen

    release = threading.Event()
    profiles = [p for p in LADDER if p.name in ("reference", "fp8")]

    def prepare():
        release.wait(30)  # the simulator and the suites, taking their time
        return build_plan(
            ladder_config(sim_server.url, profiles), suites=[MINI], seed=7, command="test"
        )

    app = prepared_app(prepare, out=None, export_dir=tmp_path, preparing="the simulator")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, StartingScreen)
        assert "starting: the simulator" in str(app.screen.query_one("#what").render())
        release.set()
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await wait_until(pilot, lambda: finished(app), timeout=60)
        assert isinstance(app.controller.session, ChildSession)
        assert app.controller.snapshot is not None and app.controller.snapshot.run.complete


async def test_ctrl_c_and_the_palette_on_the_starting_screen(tmp_path: Path) -> None:
    """Before the run exists (the demo preparing behind its first screen), ctrl+c leaves with 130
    and the command palette opens: both used to reach for the missing run controller."""
    import threading

    from vvtui.tui import prepared_app
    from vvtui.tui.screens.starting import StartingScreen

    release = threading.Event()

    def prepare():
        release.wait(30)
        raise ProbeError("never used")

    app = prepared_app(prepare, out=None, export_dir=tmp_path, preparing="the simulator")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, StartingScreen))
            commands = [c.title for c in app.get_system_commands(app.screen)]
            assert "app: quit" in commands and "run: cancel" not in commands
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: app.return_code is not None, timeout=5)
    finally:
        release.set()
    assert app.return_code == 130 and app.controller is None


async def test_a_demo_that_cannot_start_says_why_on_screen(tmp_path: Path) -> None:
    from vvtui.errors import ProbeError
    from vvtui.tui import prepared_app
    from vvtui.tui.screens.error import ErrorScreen

    def prepare():
        raise ProbeError("nope.toml:3: probe id missing")

    app = prepared_app(prepare, out=None, export_dir=tmp_path, preparing="probe suites")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, timeout=5)
    assert app.return_value == ProbeError("x").exit_code == 2  # what `vvtui demo` exits with
    assert isinstance(app.start_error, ProbeError)


async def test_a_resumed_run_in_a_child_asks_only_what_is_missing(
    sim_server, tmp_path: Path
) -> None:
    out = tmp_path / "snap.json"
    first = await _session(sim_server, tmp_path, ("reference", "fp8"), out=out).run()
    partial = load_snapshot(out)
    dropped = {r.key for r in partial.results if r.endpoint == "fp8"}
    partial.results = [r for r in partial.results if r.key not in dropped]
    partial.run.complete = False
    seen = []
    session = _session(sim_server, tmp_path, ("reference", "fp8"), on_event=seen.append)
    session.resume_from = partial
    resumed = await session.run()
    asked = {e.result.key for e in seen if isinstance(e, ResultReady)}
    assert asked == dropped  # the kept answers were not asked again
    assert resumed.run.complete
    assert {r.key for r in resumed.results} == {r.key for r in first.results}


async def test_a_cancel_while_the_job_is_on_its_way_still_stops_the_run(
    sim_server, tmp_path: Path
) -> None:
    import asyncio

    session = _session(sim_server, tmp_path, ("reference", "fp8", "int4"))
    task = asyncio.create_task(session.run())
    await asyncio.sleep(0)  # the job is being written to the child now
    session.cancel()
    snapshot = await asyncio.wait_for(task, 60)
    assert not snapshot.run.complete
    assert session.process is not None and session.process.returncode == 0
    assert len(snapshot.results) < len(session.plan.jobs())


async def test_a_child_run_keeps_conformance_and_the_stopping_record(
    sim_server, tmp_path: Path
) -> None:
    """What the child's session records beside the results (the conformance checks, the
    --until-decided stopping record) reaches the snapshot the TUI keeps and the one on disk."""
    from vvtui.scoring.decide import StoppingRule

    profiles = [p for p in LADDER if p.name in ("reference", "int2")]
    plan, info = build_plan(
        ladder_config(sim_server.url, profiles),
        suites=["quick"],
        seed=7,
        command="test",
        until_decided=StoppingRule(),
    )
    plan.conformance_options = {"context_tokens": 600, "usage_slack": 2, "seed": 7}
    out = tmp_path / "snap.json"
    snapshot = await ChildSession(plan, info, out=out).run()
    for snap in (snapshot, load_snapshot(out)):
        checked = {e.name: e.conformance for e in snap.endpoints}
        assert checked["reference"]["requests"] > 0 and checked["int2"]["requests"] > 0
        assert snap.run.stopping and "int2" in snap.run.stopping["stopped"]
