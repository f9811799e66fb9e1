"""The TUI as a demo instrument, driven with the pilot: the divergence inspector shows the scoring
core's numbers (live and on a saved run), panes can be selected, maximized and compared, small
terminals page through panes that keep room for their answers, and every way out of the app
keeps and names what was gathered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TEST_SPEED
from tests.tuitools import MINI, finished, replay_app, sim_app, wait_until
from vvtui.scoring import Scorer
from vvtui.scoring.inspect import inspect_comparison
from vvtui.sim.profiles import default_profiles
from vvtui.storage import load_snapshot
from vvtui.tui import keep_results, print_saved
from vvtui.tui.layout import MIN_ANSWER_LINES, pane_pages, panes_that_fit
from vvtui.tui.screens.inspector import InspectorScreen
from vvtui.tui.screens.main import MainScreen
from vvtui.tui.screens.unsaved import UnsavedScreen
from vvtui.tui.widgets.compact_board import CompactBoard
from vvtui.tui.widgets.pane import EndpointPane
from vvtui.tui.widgets.scoreboard import Scoreboard

LOGPROBS = Path(__file__).parent / "data" / "tui" / "quick-ladder-logprobs.json"
DIVERGING = "quant-copy-digits"


def logprob_app(tmp_path: Path, **opts):
    return replay_app(tmp_path, load_snapshot(LOGPROBS), **opts)


def shown_panes(app) -> list[EndpointPane]:
    return [p for p in app.screen.query(EndpointPane) if p.display]


async def open_probe(pilot, probe_id: str) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    screen._show_probe(probe_id)
    await pilot.pause()
    return screen


# ---------------------------------------------------------------------------------- layout


def test_panes_that_fit_keep_room_for_answers() -> None:
    assert panes_that_fit(8, 200, 41) == 8
    assert panes_that_fit(8, 80, 12) == 2  # 80×24 with the full scoreboard
    assert panes_that_fit(8, 20, 5) == 1  # nothing fits: still one
    assert panes_that_fit(3, 200, 40) == 3


def test_pages_keep_the_reference_and_reach_every_pane() -> None:
    names = ["ref", "b", "c", "d", "e"]
    pages = pane_pages(names, 3)
    assert pages == [["ref", "b", "c"], ["ref", "d", "e"]]
    assert pane_pages(names, 9) == [names]
    assert pane_pages(names, 1) == [[n] for n in names]


# ---------------------------------------------------------------------------------- inspector


async def test_inspector_shows_the_scoring_cores_breakdown(tmp_path: Path) -> None:
    snap = load_snapshot(LOGPROBS)
    scorer = Scorer(snap.probes, snap.endpoints)
    scorer.add_many(snap.results)
    by_key = {(r.endpoint, r.probe_id, r.sample): r for r in snap.results if not r.repeat}
    app = logprob_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_probe(pilot, DIVERGING)
        names = app.controller.model.endpoint_names
        await pilot.press(str(names.index("int4") + 1), "i")
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        ins = screen.inspection
        assert ins is not None and ins.endpoint == "int4" and ins.probe_id == DIVERGING
        comp = scorer.comparison("int4", DIVERGING)
        assert comp is not None
        expected = inspect_comparison(
            comp, by_key[("reference", DIVERGING, 0)], by_key[("int4", DIVERGING, 0)]
        )
        assert ins.first_divergence == expected.first_divergence == comp.first_divergence
        assert ins.divergence is not None and expected.divergence is not None
        assert ins.divergence.margin == comp.tie_margin
        assert ins.divergence.ref_alternatives == expected.divergence.ref_alternatives
        assert ins.kl_positions == expected.kl_positions
        assert ins.damage.combined == pytest.approx(comp.damage)
        # The snapshot's own per-probe damage is the one shown as the probe's.
        row = snap.scores["probes"][DIVERGING]["int4"]
        assert ins.damage.probe_damage == pytest.approx(row["damage"])
        text = " ".join(str(w.render()) for w in screen.query("Static"))
        assert "First divergence at token" in text and "Margin 0.302" in text
        assert "KL per position" in text and "noisy-OR" in text and "exact" in text
        # n/p step probes without leaving; digits switch endpoint in place.
        await pilot.press("n")
        assert screen.probe_id == app.controller.model.probe_ids[2]
        await pilot.press("p", str(names.index("int2") + 1))
        assert (screen.probe_id, screen.endpoint) == (DIVERGING, "int2")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_inspecting_the_reference_asks_for_another_pane(tmp_path: Path) -> None:
    app = logprob_app(tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_probe(pilot, DIVERGING)
        await pilot.press("1", "i")
        assert isinstance(app.screen, MainScreen)
        assert any("select an endpoint" in n.message for n in app._notifications)


async def test_inspector_follows_a_live_run(sim_server, tmp_path: Path) -> None:
    profiles = [p for p in default_profiles(TEST_SPEED) if p.name in ("reference", "int2")]
    app = sim_app(sim_server, profiles, tmp_path, suites=[MINI])
    async with app.run_test(size=(120, 36)) as pilot:
        model = app.controller.model
        await pilot.press("2", "i")  # most likely before its answer is in
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        first = screen.probe_id
        await wait_until(pilot, lambda: finished(app), timeout=60)
        await wait_until(pilot, lambda: screen.inspection is not None)
        ins = screen.inspection
        assert ins is not None
        expected = model.inspection("int2", first)
        assert expected is not None and ins.damage.combined == expected.damage.combined
        assert ins.mark == model.marks(first)["int2"]


# ---------------------------------------------------------------------------------- focus


async def test_small_terminal_pages_through_panes_with_answers(tmp_path: Path) -> None:
    app = logprob_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_probe(pilot, DIVERGING)
        await pilot.pause()
        model = app.controller.model
        shown = shown_panes(app)
        assert len(shown) >= 2
        for pane in shown:
            assert pane.answer.size.height >= MIN_ANSWER_LINES
            assert pane.answer.plain_text.strip()
        # The reference first, then one that departs from it on this probe.
        names = [p.info.name for p in shown]
        assert names[0] == model.reference
        marks = model.marks(DIVERGING)
        assert marks[names[1]] in ("diverged", "fail")
        seen: set[str] = set()
        for _ in screen.pages:
            page = {p.info.name for p in shown_panes(app)}
            assert model.reference in page
            seen |= page
            await pilot.press("right_square_bracket")
            await pilot.pause()
        assert seen == set(model.endpoint_names)


@pytest.mark.parametrize("width", [120, 200])
async def test_maximize_and_compare(tmp_path: Path, width: int) -> None:
    app = logprob_app(tmp_path)
    async with app.run_test(size=(width, 36)) as pilot:
        screen = await open_probe(pilot, DIVERGING)
        names = app.controller.model.endpoint_names
        await pilot.press(str(names.index("int4") + 1), "m")
        assert screen.maximized is not None and screen.maximized.info.name == "int4"
        await pilot.press("escape")
        assert screen.maximized is None
        await pilot.press("x")
        await pilot.pause()
        shown = shown_panes(app)
        assert [p.info.name for p in shown] == ["reference", "int4"]
        await pilot.pause()
        assert all(p.size.width >= width // 2 - 4 for p in shown), [p.size for p in shown]
        await pilot.press(str(names.index("int2") + 1))
        await pilot.pause()
        assert [p.info.name for p in shown_panes(app)] == ["reference", "int2"]
        await pilot.press("x")
        await pilot.pause()
        assert len(shown_panes(app)) == len(names)


async def test_scoreboard_size_is_remembered(tmp_path: Path) -> None:
    state = tmp_path / "state" / "tui.json"
    app = logprob_app(tmp_path, state_path=state)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("B")
        await pilot.pause()
        assert not app.screen.query_one(Scoreboard).display or app.screen.query_one(
            Scoreboard
        ).has_class("-hidden")
        compact = app.screen.query_one(CompactBoard)
        assert not compact.has_class("-hidden")
        assert "int4" in str(compact.render())
    assert json.loads(state.read_text())["board"] == "compact"
    again = logprob_app(tmp_path, state_path=state)
    async with again.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert again.screen.board_mode == "compact"
        await pilot.press("B")
    assert json.loads(state.read_text())["board"] == "hidden"


async def test_view_offers_only_keys_that_act_on_a_saved_run(tmp_path: Path) -> None:
    app = logprob_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        keys = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert "rerun" not in keys and "cancel_run" not in keys
        assert "inspect" in keys
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert not any(title.startswith("run:") for title in commands)


# ---------------------------------------------------------------------------------- leaving


async def test_ctrl_c_cancels_saves_incomplete_and_exits_130(
    sim_server_factory, tmp_path: Path, capsys
) -> None:
    # Slow enough (a few tokens a second) that on a loaded machine the run is still going when
    # ctrl+c lands: at TEST_SPEED / 10 it sometimes finished first.
    profiles = default_profiles(TEST_SPEED / 40)[:2]
    server = sim_server_factory(profiles)
    out = tmp_path / "run.json"
    app = sim_app(server, profiles, tmp_path, suites=[MINI], out=out)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.controller.model.done >= 2)
        await pilot.press("ctrl+c")
    assert app.return_code == 130
    written = keep_results(app, app.controller)
    print_saved(app, written)
    assert written == out
    snap = load_snapshot(out)
    assert not snap.run.complete and len(snap.results) >= 2
    assert f"snapshot: {out}" in capsys.readouterr().err


async def test_save_and_quit_names_the_files_and_counts_every_answer(
    sim_server, tmp_path: Path, capsys
) -> None:
    profiles = [p for p in default_profiles(TEST_SPEED) if p.name in ("reference", "int4")]
    app = sim_app(sim_server, profiles, tmp_path, suites=[MINI])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=60)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedScreen))
        question = str(app.screen.question)
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running, timeout=30)
    print_saved(app, keep_results(app, app.controller))
    err = capsys.readouterr().err
    (saved,) = (tmp_path / "exports").glob("vvtui-*.json")
    assert f"saved {saved}" in err and f"saved {saved.with_suffix('.md')}" in err
    held = len(load_snapshot(saved).results)
    assert question.startswith(f"{held} answers")


def test_the_demo_path_names_what_it_saved(monkeypatch, capsys, tmp_path: Path) -> None:
    """`vvtui demo` opens through run_prepared_app (screen first): its exits must name the files
    they wrote like run_app's do."""
    import vvtui.tui as tui

    shot = tmp_path / "screen.svg"

    class Ran:
        controller = None
        start_error = None
        return_code = 0
        saved_paths = [shot]

        def run(self) -> int:
            return 0

    monkeypatch.setattr(tui, "prepared_app", lambda *a, **kw: Ran())
    assert tui.run_prepared_app(lambda: None, out=None, export_dir=tmp_path, preparing="x") == 0
    assert f"vvtui: saved {shot}" in capsys.readouterr().err
