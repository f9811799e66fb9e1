"""What the app shows while what a run needs is still being prepared behind it (the demo's
simulated endpoints, the probe suites): a screen at once, rather than a blank terminal for the
seconds those take."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static


class StartingScreen(Screen[None]):
    DEFAULT_CSS = """
    StartingScreen { align: center middle; }
    StartingScreen > Vertical {
        width: 64; height: auto; border: round $primary; padding: 1 2; background: $surface;
    }
    StartingScreen #what { color: $text-muted; }
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "vvtui"
            # No spinner: its animation would take the GIL from the thread doing the preparing.
            yield Static(Content(f"starting: {self.what}…"), id="what")
        yield Footer()
