"""`BandedCompositor` (#17): an update rendered band by band sends the terminal exactly what
Textual's own compositor sends for the same dirty regions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rich.console import Console
from textual._compositor import ChopsUpdate, Compositor
from textual.app import App, ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Static

from tests.tuitools import replay_app
from vvtui.tui.banded import BAND_GAP, PIECE_LINES, BandedCompositor, groups
from vvtui.tui.screens.main import MainScreen


def test_groups_keep_nearby_lines_together_and_far_ones_apart() -> None:
    spans = [(0, 0, 80), (1 + BAND_GAP, 10, 15), (29, 0, 80), (30, 40, 45)]
    assert groups(spans, BAND_GAP) == [spans[:2], spans[2:]]


def test_groups_cut_into_pieces_of_contiguous_lines() -> None:
    spans = [(0, 0, 80), (1, 0, 80), (1, 90, 99), (2, 0, 80), (3, 0, 80), (5, 0, 80)]
    # Lines 0-3 are contiguous: pieces of two lines (both spans of line 1 stay together); line
    # 5 is not contiguous with them.
    assert groups(spans, 0, 2) == [spans[:3], spans[3:5], spans[5:]]


class _Screen(Screen):
    def __init__(self) -> None:
        super().__init__()
        self._compositor = BandedCompositor()

    def compose(self) -> ComposeResult:
        yield Static("run bar", id="bar")
        with Horizontal():
            with Vertical(id="side"):
                yield Static("\n".join(f"probe {i}" for i in range(30)), id="probes")
            with Grid(id="grid"):
                for i in range(8):
                    yield Static(f"pane {i}\n" + "\n".join("·" * 20 for _ in range(4)))
        yield Static("board", id="board")


class _App(App):
    CSS = """
    #side { width: 12; }
    #grid { grid-size: 4 2; }
    #grid > Static { border: round $primary; height: 8; }
    """

    def on_mount(self) -> None:
        self.push_screen(_Screen())


async def test_a_banded_update_sends_what_one_box_sends() -> None:
    app = _App()
    console = Console(width=120, color_system="truecolor", force_terminal=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        compositor = screen._compositor
        assert isinstance(compositor, BandedCompositor)
        # The run bar, a line of the sidebar, a line in each pane row and the board: far apart.
        dirty = {
            Region(0, 0, 120, 1),
            Region(1, 12, 10, 1),
            Region(14, 3, 30, 2),
            Region(70, 13, 20, 1),
            Region(0, 38, 120, 1),
        }
        spans = sorted(compositor._regions_to_spans(dirty))
        assert len(groups(spans, BAND_GAP)) > 2
        compositor._dirty_regions = set(dirty)
        banded = compositor.render_partial_update()
        compositor._dirty_regions = set(dirty)
        boxed = Compositor.render_partial_update(compositor)
        assert banded is not None and boxed is not None
        assert banded.spans == boxed.spans
        assert banded.render_segments(console) == boxed.render_segments(console)


def _by_span(update: ChopsUpdate, console: Console) -> dict[tuple[int, int, int], str]:
    """What an update sends the terminal for each of its spans."""
    return {
        span: ChopsUpdate(update.chops, [span], update.chop_ends).render_segments(console)
        for span in update.spans
    }


async def test_a_budget_spreads_an_update_over_several_that_send_the_same_lines() -> None:
    app = _App()
    console = Console(width=120, color_system="truecolor", force_terminal=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        # The whole screen but half a line: a partial update (a full one has no budget).
        dirty = {Region(0, 0, 120, 39), Region(0, 39, 60, 1)}
        compositor._dirty_regions = set(dirty)
        boxed = Compositor.render_partial_update(compositor)
        assert boxed is not None
        compositor.budget_s = 0.0  # one piece an update
        sent: dict[tuple[int, int, int], str] = {}
        updates = 0
        compositor._dirty_regions = set(dirty)
        while compositor.carried or not updates:
            update = compositor.render_partial_update()
            assert update is not None
            assert len({y for y, _, _ in update.spans}) <= PIECE_LINES
            assert not sent.keys() & set(update.spans)  # each line once
            sent |= _by_span(update, console)
            updates += 1
            assert updates <= 40
        assert updates == -(-40 // PIECE_LINES)
        assert sent == _by_span(boxed, console)


async def test_a_budget_lets_every_piece_have_its_turn_while_the_top_keeps_changing() -> None:
    app = _App()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        compositor.budget_s = 0.0
        compositor._dirty_regions = {Region(0, 10, 120, 20)}
        seen: set[int] = set()
        for _ in range(40):
            compositor._dirty_regions.add(Region(0, 0, 120, 1))  # the run bar, every frame
            update = compositor.render_partial_update()
            assert update is not None
            seen |= {y for y, _, _ in update.spans}
            if seen >= set(range(10, 30)):
                break
        else:
            raise AssertionError(f"lines never drawn: {sorted(set(range(10, 30)) - seen)}")


@contextlib.asynccontextmanager
async def _run_screen(tmp_path: Path) -> AsyncIterator[tuple[Any, MainScreen, BandedCompositor]]:
    """A replayed run's screen, up: the pilot, the screen and its compositor."""
    app = replay_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        compositor = screen._compositor
        assert isinstance(compositor, BandedCompositor)
        yield pilot, screen, compositor


def _hold_frames(screen: MainScreen) -> None:
    """Pause the frame timer: a replay does not stream, so its frames would lift the limits."""
    for timer in screen._timers:
        if timer.name == "frame":
            timer.pause()


async def test_the_run_screen_draws_what_a_budget_left_over_without_new_changes(
    tmp_path: Path,
) -> None:
    async with _run_screen(tmp_path) as (_, screen, compositor):
        _hold_frames(screen)
        compositor.throttled = True
        compositor.budget_s, compositor.share = 0.0, None  # one piece an update
        compositor._dirty_regions = {Region(0, 0, 160, 47)}
        screen._on_timer_update()  # one piece drawn, the rest carried
        assert compositor.carried
        # Nothing else changes: the screen's own timer must come back for the rest.
        for _ in range(200):
            if not compositor.carried:
                break
            await asyncio.sleep(0.02)
        assert not compositor.carried


async def test_what_a_key_changes_is_drawn_whole_and_nothing_is_held_when_nothing_streams(
    tmp_path: Path,
) -> None:
    async with _run_screen(tmp_path) as (pilot, screen, compositor):
        compositor.budget_s, compositor.share = 0.0, None
        # Nothing streams in a replay: its frames lift the limits.
        await pilot.pause(0.2)
        assert not compositor.throttled
        compositor._dirty_regions = {Region(0, 0, 160, 47)}
        screen._on_timer_update()
        assert not compositor.carried
        # Streaming, but a key was just pressed: drawn whole too.
        compositor.throttled = True
        await pilot.press("n")
        compositor.throttled = True
        compositor._dirty_regions = {Region(0, 0, 160, 47)}
        screen._on_timer_update()
        assert not compositor.carried


async def test_a_share_caps_the_time_updates_spend_rendering(monkeypatch) -> None:
    """On a clock the test moves: each piece costs 5 ms, an update comes every 10 ms, the whole
    screen is dirty every time; a 25% share must hold rendering to a quarter of the time."""
    from vvtui.tui import banded

    now = [1000.0]
    monkeypatch.setattr(banded, "perf_counter", lambda: now[0])

    app = _App()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        render_chops = compositor._render_chops

        def costly(crop: Region, is_rendered_line: Any) -> Any:
            now[0] += 0.005
            return render_chops(crop, is_rendered_line)

        monkeypatch.setattr(compositor, "_render_chops", costly)
        compositor.budget_s, compositor.share = 0.012, 0.25
        compositor._allowance, compositor._accrued_at = 0.012, now[0]
        started = now[0]
        pieces = 0
        for _ in range(100):
            compositor._dirty_regions = {Region(0, 0, 120, 39)}
            update = compositor.render_partial_update()
            pieces += len({y for y, _, _ in update.spans}) // PIECE_LINES if update else 0
            now[0] += 0.010
        elapsed = now[0] - started
        rendering = pieces * 0.005
        # A quarter of the time, give or take the first allowance and one piece's overrun.
        assert rendering <= 0.25 * elapsed + 0.012 + 0.005
        assert rendering >= 0.25 * elapsed - 0.012 - 0.005  # and it does use its share


def test_the_installed_textual_gets_the_banded_compositor_and_another_gets_its_own(
    monkeypatch,
) -> None:
    from vvtui.tui import banded

    assert type(banded.compositor()) is BandedCompositor
    # A Textual whose private pieces moved: its own compositor, not a broken screen.
    monkeypatch.setattr(banded, "ChopsUpdate", None)
    assert type(banded.compositor()) is Compositor
    monkeypatch.undo()
    monkeypatch.setattr(banded, "_NEEDS", (*banded._NEEDS, "_gone_in_a_new_release"))
    assert type(banded.compositor()) is Compositor


async def test_frames_are_skipped_while_the_loop_uses_more_than_its_share(
    tmp_path: Path, monkeypatch
) -> None:
    """On clocks the test moves: a loop that spends half of each frame's time drawing while the
    run streams skips frames, never more than FRAME_SKIP_MAX in a row; at a tenth it skips none,
    and nothing is skipped when the run does not stream."""
    from vvtui.tui.screens import main

    wall, cpu = [100.0], [10.0]
    # The screen module's clocks only: Textual and asyncio keep the real ones.
    clocks = SimpleNamespace(
        perf_counter=lambda: wall[0], thread_time=lambda: cpu[0], monotonic=time.monotonic
    )
    monkeypatch.setattr(main, "time", clocks)
    async with _run_screen(tmp_path) as (_, screen, _compositor):
        _hold_frames(screen)  # the test calls the pacing itself
        screen._wall_at, screen._cpu_at, screen._cpu_share, screen._skipped = 100.0, 10.0, 0, 0

        def frames(busy: float, n: int = 40) -> list[bool]:
            out = []
            for _ in range(n):
                wall[0] += main.FRAME_S
                cpu[0] += busy * main.FRAME_S
                out.append(screen._paced())
            return out

        monkeypatch.setattr(type(screen.model), "running", property(lambda self: True))
        busy = frames(0.5)
        assert any(busy)
        longest = max(len(run) for run in "".join("s" if s else "." for s in busy).split("."))
        assert longest == main.FRAME_SKIP_MAX
        assert not any(frames(0.1)[10:])  # once the smoothed share has come down
        monkeypatch.setattr(type(screen.model), "running", property(lambda self: False))
        assert not any(frames(0.9))
