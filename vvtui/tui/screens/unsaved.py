"""Asked before results that are in no file would be dropped (quit, re-run)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

# What the user chose: save first, go ahead without saving, or stay.
SAVE, DISCARD, STAY = "save", "discard", "stay"


class UnsavedScreen(ModalScreen[str]):
    BINDINGS: ClassVar = [
        Binding("y,s", "choose('save')", "Save", id="unsaved-save", tooltip="Save, then go on"),
        Binding(
            "n,d", "choose('discard')", "Don't save", id="unsaved-discard", tooltip="Drop them"
        ),
        Binding("escape", "choose('stay')", "Stay", id="unsaved-stay", tooltip="Go back"),
    ]

    DEFAULT_CSS = """
    UnsavedScreen { align: center middle; }
    UnsavedScreen > Vertical {
        width: 72; height: auto; border: round $warning; background: $surface; padding: 1 2;
    }
    UnsavedScreen #question { margin-bottom: 1; }
    UnsavedScreen Horizontal { height: auto; align-horizontal: right; }
    UnsavedScreen Button { margin-left: 1; }
    """

    def __init__(self, question: str, go_label: str) -> None:
        super().__init__()
        self.question = question
        self.go_label = go_label

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "unsaved results"
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button(f"Save & {self.go_label} (y)", id="save", variant="primary")
                yield Button(f"{self.go_label.capitalize()} without saving (n)", id="discard")
                yield Button("Stay (esc)", id="stay")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or STAY)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
