"""`BandedCompositor` (#17): an update rendered band by band sends the terminal exactly what
Textual's own compositor sends for the same dirty regions."""

from __future__ import annotations

from rich.console import Console
from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import Static

from vvtui.tui.banded import BAND_GAP, BandedCompositor, bands


def test_bands_group_nearby_lines_and_keep_far_ones_apart() -> None:
    top = Region(0, 0, 80, 1)
    near = Region(10, 1 + BAND_GAP, 5, 2)  # within the gap: joins the top band
    far = Region(40, 30, 5, 1)
    under_far = Region(0, 29, 80, 3)
    assert bands({far, top, near, under_far, Region(3, 3, 0, 0)}) == [
        [top, near],
        [under_far, far],
    ]


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
        assert len(bands(dirty)) > 2
        compositor._dirty_regions = set(dirty)
        banded = compositor.render_partial_update()
        compositor._dirty_regions = set(dirty)
        boxed = Compositor.render_partial_update(compositor)
        assert banded is not None and boxed is not None
        assert banded.spans == boxed.spans
        assert banded.render_segments(console) == boxed.render_segments(console)


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
