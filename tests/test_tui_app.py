"""The app driven like a person would, on real runs against the simulator (real HTTP, real SSE):
panes, scoreboard and navigator must show what the scoring core computes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.conftest import TEST_SPEED
from tests.tuitools import MINI, finished, sim_app, wait_until
from vvtui.scoring import ScoreReport, score_snapshot
from vvtui.sim.profiles import default_profiles
from vvtui.storage import load_snapshot
from vvtui.tui.screens.main import MainScreen
from vvtui.tui.screens.unsaved import UnsavedScreen
from vvtui.tui.widgets.navigator import ProbeNavigator, disagree
from vvtui.tui.widgets.pane import EndpointPane
from vvtui.tui.widgets.scoreboard import COLUMNS, Scoreboard, cell_texts

LADDER = default_profiles(TEST_SPEED)


def pick(*names: str):
    return [p for p in LADDER if p.name in names]


def main_screen(app) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def pane(app, name: str) -> EndpointPane:
    return next(p for p in app.screen.query(EndpointPane) if p.info.name == name)


def shown_cells(board: Scoreboard, name: str) -> dict[str, str]:
    return {key: board.get_cell(name, key).plain for key, *_ in COLUMNS}


async def test_full_ladder_run_matches_the_scoring_core(sim_server, tmp_path: Path) -> None:
    app = sim_app(sim_server, LADDER, tmp_path, suites=[MINI])
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=60)
        await pilot.pause(0.3)
        screen = main_screen(app)
        snapshot = app.controller.snapshot
        assert snapshot is not None and snapshot.run.complete
        assert len(snapshot.results) == app.controller.model.total > 0
        # The scores on screen are the scoring core's, recomputed here from the snapshot alone.
        report = score_snapshot(snapshot)
        assert ScoreReport.from_dict(snapshot.scores).endpoints == report.endpoints
        board = screen.query_one(Scoreboard)
        for name, score in report.endpoints.items():
            assert shown_cells(board, name) == cell_texts(score), name
        # Every probe's marks in the navigator are the report's.
        navigator = screen.query_one(ProbeNavigator)
        for pid in navigator.probe_ids:
            row = report.probes.get(pid, {})
            expected = {n: row.get(n, {}).get("mark", "pending") for n in navigator.names}
            assert navigator.marks[pid] == expected, pid
        # The ladder shows what it is for: quantization damage orders the scores.
        fid = {n: s.fidelity for n, s in report.endpoints.items()}
        assert fid["reference"] == 100.0 and fid["int2"] < fid["fp8"]

        # Step to the first probe and look at the panes with highlighting off: the answers.
        await pilot.press(*["p"] * len(navigator.probe_ids))
        first = navigator.probe_ids[0]
        assert screen.probe_id == first and not screen.follow
        await pilot.press("d")
        await pilot.pause(0.2)
        by_key = {(r.endpoint, r.probe_id, r.sample, r.repeat): r for r in snapshot.results}
        for profile in LADDER:
            shown = pane(app, profile.name).answer.plain_text
            assert shown == by_key[(profile.name, first, 0, 0)].text

        # Highlighting on: a diverged answer is painted and its first divergence marked where
        # the Scorer says.
        await pilot.press("d")
        await pilot.pause(0.2)
        model = app.controller.model
        diverged = [
            (pid, name)
            for pid in navigator.probe_ids
            for name, mark in model.marks(pid).items()
            if mark == "diverged" and model.probe_by_id[pid].kind == "chat"
        ]
        assert diverged, "the ladder should diverge somewhere"
        pid, name = diverged[0]
        screen._show_probe(pid)
        await pilot.pause(0.2)
        doc = pane(app, name).answer.doc
        comparison = model.comparison(name, pid)
        assert comparison is not None and comparison.first_divergence_char is not None
        assert doc is not None and doc.mark is not None and doc.runs
        assert "≠" in pane(app, name).status_text

        # The filter keeps exactly the probes where endpoints disagree (and the one shown).
        await pilot.press("o")
        expected = [p for p in navigator.probe_ids if disagree(navigator.marks[p])]
        assert expected
        assert [p for p in navigator.visible_probes() if p != screen.probe_id] == [
            p for p in expected if p != screen.probe_id
        ]
        assert navigator.option_count == len(navigator.visible_probes())
        await pilot.press("o")
        assert navigator.option_count == len(navigator.probe_ids)


async def test_a_failing_endpoint_shows_its_error_and_the_others_finish(
    sim_server_factory, tmp_path: Path
) -> None:
    profiles = pick("reference", "fp8", "int4")
    profiles[2] = dataclasses.replace(profiles[2], fault="error_body")
    server = sim_server_factory(profiles)
    app = sim_app(server, profiles, tmp_path, suites=[MINI])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=60)
        await pilot.pause(0.3)
        broken = pane(app, "int4")
        assert broken.has_class("-error")
        status = broken.status_text
        assert "error" in status
        assert "⚠" in broken.answer.plain_text
        for name in ("reference", "fp8"):
            assert not pane(app, name).has_class("-error")
        scores = app.controller.model.scores
        assert scores["int4"].errors == len(app.controller.model.probe_ids)
        assert scores["fp8"].errors == 0 and scores["fp8"].fidelity is not None


async def test_conformance_arrives_in_the_panes_and_gates_the_verdict(
    sim_server_factory, tmp_path: Path
) -> None:
    profiles = pick("reference", "capped")
    server = sim_server_factory(profiles)
    app = sim_app(server, profiles, tmp_path, suites=[MINI])
    app.controller.spec.plan.conformance_options = {"context_tokens": 800, "seed": 1}
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=90)
        await pilot.pause(0.3)
        capped = pane(app, "capped")
        line = capped.query_one("#conformance").render()
        assert "conformance" in str(line) and "answers cut short" in str(line)
        assert "9/9" in str(pane(app, "reference").query_one("#conformance").render())
        assert app.controller.model.scores["capped"].verdict == "degraded"
        assert cell_texts(app.controller.model.scores["capped"])["conformance"] == "✗ not_cut"
        snap = app.controller.snapshot
        assert snap is not None
        assert {e.name: bool(e.conformance) for e in snap.endpoints} == {
            "reference": True,
            "capped": True,
        }


async def test_export_and_screenshot_land_in_the_export_dir(sim_server, tmp_path: Path) -> None:
    app = sim_app(sim_server, pick("reference", "int4"), tmp_path, suites=[MINI])
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_until(pilot, lambda: finished(app))
        await pilot.press("e")
        export_dir = tmp_path / "exports"
        await wait_until(pilot, lambda: any(export_dir.glob("*.json")))
        (snap_path,) = export_dir.glob("*.json")
        exported = load_snapshot(snap_path)
        assert len(exported.results) == len(app.controller.model.results) + sum(
            1 for r in exported.results if r.repeat
        )
        assert exported.scores == app.controller.snapshot.scores
        # The Markdown report beside it, made by the reports module from the same snapshot.
        report = snap_path.with_suffix(".md").read_text()
        assert report.startswith("# vvtui report") and "int4" in report
        await pilot.press("s")
        await wait_until(pilot, lambda: any(export_dir.glob("*.svg")))
        messages = [n.message for n in app._notifications]
        assert any(str(snap_path) in m and ".md" in m for m in messages)
        assert any(".svg" in m for m in messages)
        # Exported: quitting does not ask.
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, timeout=5)


async def test_cancel_keeps_what_was_gathered_and_writes_out(
    sim_server_factory, tmp_path: Path
) -> None:
    # Slow enough to be caught mid-run.
    profiles = default_profiles(2.0)[:2]
    server = sim_server_factory(profiles)
    out = tmp_path / "snap.json"
    app = sim_app(server, profiles, tmp_path, suites=["all"], out=out)
    async with app.run_test(size=(120, 36)) as pilot:
        model = app.controller.model
        await wait_until(pilot, lambda: model.done >= 2)
        await pilot.press("c")
        await wait_until(pilot, lambda: finished(app))
        assert model.phase == "cancelled"
        saved = load_snapshot(out)
        assert not saved.run.complete
        assert 2 <= len(saved.results) < model.total
        assert saved.scores  # scored, like a finished run
        assert "cancelled" in str(main_screen(app).query_one("#runbar").render())


async def test_quit_with_unsaved_results_asks_first(sim_server, tmp_path: Path) -> None:
    app = sim_app(sim_server, pick("reference", "fp8"), tmp_path, suites=[MINI])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app))
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedScreen), timeout=5)
        await pilot.press("escape")  # stay
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), timeout=5)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, UnsavedScreen), timeout=5)
        await pilot.press("y")  # save, then quit
        await wait_until(pilot, lambda: app.return_code is not None, timeout=10)
    assert list((tmp_path / "exports").glob("*.json"))
    assert not app.discarded


async def test_rerun_asks_the_same_probes_and_numbers_its_snapshot(
    sim_server, tmp_path: Path
) -> None:
    out = tmp_path / "snap.json"
    app = sim_app(sim_server, pick("reference", "fp8"), tmp_path, suites=[MINI], out=out)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app))
        first = load_snapshot(out)
        await pilot.press("r")
        await wait_until(pilot, lambda: app.controller.runs == 2 and finished(app))
        second = load_snapshot(tmp_path / "snap-2.json")
        assert [p.to_dict() for p in second.probes] == [p.to_dict() for p in first.probes]
        assert second.run.seed == first.run.seed
        assert len(second.results) == len(first.results)


async def test_theme_switch_restyles_and_is_remembered(tmp_path: Path) -> None:
    from tests.tuitools import replay_app

    state = tmp_path / "state" / "tui.json"
    app = replay_app(tmp_path, state_path=state)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.theme == "vvtui-dark"
        dark_replace = app.theme_variables["vv-diff-replace"]
        app.theme = "vvtui-light"
        await pilot.pause(0.2)
        assert app.theme_variables["vv-diff-replace"] != dark_replace
        assert not app.current_theme.dark
    assert json.loads(state.read_text())["theme"] == "vvtui-light"
    again = replay_app(tmp_path, state_path=state)
    async with again.run_test(size=(120, 36)):
        assert again.theme == "vvtui-light"


async def test_unknown_theme_and_keymap_entries_are_reported(tmp_path: Path) -> None:
    from tests.tuitools import replay_app

    app = replay_app(
        tmp_path, config_theme="no-such-theme", keymap={"inspect": "ctrl+r", "nope": "x"}
    )
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause(0.1)
        messages = "\n".join(n.message for n in app._notifications)
        assert "theme 'no-such-theme' not found, using 'vvtui-dark'" in messages
        assert "[keymap] 'nope': no such binding" in messages
        assert app.theme == "vvtui-dark"
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        help_text = app.screen.query_one("Markdown")._markdown  # type: ignore[attr-defined]
        assert "`ctrl+r` | Inspect (`inspect`)" in help_text
        # A saved run: no key in the help that could only answer "not here".
        assert "(`rerun`)" not in help_text and "(`cancel`)" not in help_text


@pytest.mark.parametrize("size", [(120, 36), (200, 50)])
async def test_every_pane_keeps_a_readable_size(tmp_path: Path, size: tuple[int, int]) -> None:
    from tests.tuitools import replay_app

    app = replay_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        for p in app.screen.query(EndpointPane):
            assert p.size.width >= 28, p.size
            assert p.answer.size.height >= 3, p.answer.size


async def test_palette_and_keys_reach_the_same_actions(tmp_path: Path) -> None:
    from tests.tuitools import replay_app

    app = replay_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        titles = [c.title for c in app.get_system_commands(screen)]
        # A saved run: nothing to restart or cancel (test_tui_inspect checks the keys).
        assert not any(t.startswith("run:") for t in titles)
        for title in (
            "export: snapshot",
            "export: screenshot",
            "view: toggle diff highlighting",
            "view: only disagreements",
            "theme: vvtui-light",
        ):
            assert title in titles
        assert screen.diff
        await pilot.press("ctrl+p")
        await pilot.press(*[("space" if c == " " else c) for c in "toggle diff"])
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.diff, timeout=5)
        # Sorting: the key cycles orders; fidelity puts the best first.
        board = screen.query_one(Scoreboard)
        await pilot.press("S")
        order = board.row_order()
        fids = [board.scores[n].fidelity or -1 for n in order]
        assert fids == sorted(fids, reverse=True)
        assert board.sort_column == "fidelity"


async def test_a_closed_palettes_search_failing_does_not_end_the_app(tmp_path: Path) -> None:
    from textual.css.query import NoMatches
    from textual.worker import WorkerFailed

    from tests.tuitools import replay_app

    app = replay_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        race = NoMatches("No nodes match 'CommandList' on CommandPalette(classes='-ready')")
        app._handle_exception(WorkerFailed(race))
        await pilot.pause(0.1)
        assert app.return_code is None and isinstance(app.screen, MainScreen)


async def test_a_scoreboard_update_repaints_the_new_value(tmp_path: Path) -> None:
    from tests.tuitools import replay_app

    app = replay_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        board = main_screen(app).query_one(Scoreboard)
        row = board.get_row_index("int4")
        y = board.header_height + row

        def line() -> str:
            return "".join(seg.text for seg in board.render_line(y))

        assert "73.1 [47.0–97.1]" in line()
        score = dataclasses.replace(board.scores["int4"], fidelity=12.5, ci_low=3, ci_high=30)
        board.update_scores({"int4": score})
        await pilot.pause()
        assert board.get_cell("int4", "fidelity").plain == "12.5 [3.0–30.0]"
        assert "12.5 [3.0–30.0]" in line() and "73.1" not in line()
        # Other rows keep what they showed.
        assert "100.0 [100–100]" in "".join(seg.text for seg in board.render_line(y - row))


async def test_a_dead_endpoint_is_shown_down_with_its_counts(
    sim_server_factory, tmp_path: Path
) -> None:
    profiles = pick("reference", "fp8", "int4")
    profiles[2] = dataclasses.replace(profiles[2], fault="refuse")
    server = sim_server_factory(profiles)
    app = sim_app(server, profiles, tmp_path, suites=[MINI])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=60)
        await pilot.pause(0.3)
        # The why first; the counts follow where the pane has room (here it has not).
        stats = pane(app, "int4")._lines["#stats"][0]
        assert stats.startswith("⏻ down after 3 consecutive failed")
        trouble, down = app.controller.model.trouble("int4")
        assert down and "connection failed ×" in trouble and "not sent ×" in trouble
        assert app.controller.model.scores["int4"].verdict == "no answers"
        assert "∅ no answers" in pane(app, "int4")._lines["#trend"][0]
        assert not pane(app, "fp8")._lines["#stats"][0].startswith("⏻")
        (tmp_path / "down.svg").write_text(app.export_screenshot())


async def test_an_until_decided_run_shows_what_each_verdict_cost(
    sim_server_factory, tmp_path: Path
) -> None:
    from textual.widgets import Static

    from vvtui.scoring.decide import StoppingRule

    profiles = pick("reference", "int2", "slow")
    server = sim_server_factory(profiles)
    app = sim_app(server, profiles, tmp_path, suites=["quick"], until_decided=StoppingRule())
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: finished(app), timeout=90)
        await pilot.pause(0.3)
        stopped = app.controller.snapshot.run.stopping["stopped"]
        assert stopped["int2"]["reason"] == "decided"
        line = pane(app, "int2").query_one("#decision", Static)
        assert str(line.render()).startswith("decided ")
        assert "$" in str(line.render())
        assert not pane(app, "reference").query("#decision")
