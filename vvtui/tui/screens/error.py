"""A readable screen for a config or probe file that cannot be used, instead of a traceback."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from vvtui.errors import ConfigError, ProbeError, SnapshotError, VvtuiError
from vvtui.redact import redact

_WHAT = {
    ConfigError: "The endpoints config cannot be used",
    ProbeError: "A probe suite cannot be used",
    SnapshotError: "The snapshot cannot be read",
}
_NEXT = {
    ConfigError: [
        "vvtui config check      validate the config and list missing keys",
        "vvtui config locate     print where vvtui looks for its files",
        "vvtui config init       write a commented example config",
        "vvtui demo              try vvtui on simulated endpoints, no config needed",
    ],
    ProbeError: [
        "vvtui probes validate   check probe files and report every problem",
        "vvtui probes list       list the shipped suites and probes",
    ],
    SnapshotError: [
        "a run that was interrupted leaves its results in the .wal.jsonl beside the snapshot",
    ],
}


def describe(error: VvtuiError) -> tuple[str, str, list[str]]:
    """(headline, the error's one line, what to try next)."""
    for kind, headline in _WHAT.items():
        if isinstance(error, kind):
            return headline, redact(str(error)), _NEXT[kind]
    return "vvtui cannot start", redact(str(error)), []


class ErrorScreen(Screen[None]):
    BINDINGS: ClassVar = [
        Binding("q,escape,enter", "app.quit", "Quit", id="error-quit", tooltip="Leave vvtui"),
    ]

    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen > Vertical {
        width: 90%; max-width: 110; height: auto; border: round $error; padding: 1 2;
        background: $surface;
    }
    ErrorScreen #headline { text-style: bold; color: $error; margin-bottom: 1; }
    ErrorScreen #message { margin-bottom: 1; }
    ErrorScreen #next { color: $text-muted; }
    """

    def __init__(self, error: VvtuiError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        headline, message, steps = describe(self.error)
        with Vertical() as box:
            box.border_title = "vvtui"
            yield Static(Content(headline), id="headline")
            yield Static(Content(message), id="message")
            if steps:
                yield Static(Content("What to try:\n  " + "\n  ".join(steps)), id="next")
        yield Footer()


class ErrorApp(App[int]):
    """Shows one ErrorScreen; exits with the error's exit code."""

    TITLE = "vvtui"

    def __init__(self, error: VvtuiError) -> None:
        super().__init__()
        self.error = error
        self._crash: BaseException | None = None

    def on_mount(self) -> None:
        from vvtui.tui.themes import DEFAULT_THEME, load_themes, shipped_themes_dir

        for theme in load_themes([shipped_themes_dir()]).themes.values():
            self.register_theme(theme)
        if DEFAULT_THEME in self.available_themes:
            self.theme = DEFAULT_THEME
        self.push_screen(ErrorScreen(self.error))

    async def action_quit(self) -> None:
        self.exit(self.error.exit_code)

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        from vvtui.tui.app import report_crash

        report_crash(self, self._crash)
