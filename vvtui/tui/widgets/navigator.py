"""Every probe with one mark per endpoint (pane order), and a filter for the probes where the
endpoints disagree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual import on
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from vvtui.tui import format as fmt

MARK_STYLES = {
    "pass": "$vv-mark-pass",
    "fail": "b $vv-mark-fail",
    "diverged": "b $vv-mark-diverged",
    "error": "b $vv-mark-error",
    "pending": "$vv-mark-pending",
}


def disagree(marks: Mapping[str, str]) -> bool:
    """Endpoints disagree on a probe when one departs from the reference's answer or their
    outcomes differ (marks that are still pending do not count)."""
    seen = {m for m in marks.values() if m != "pending"}
    return "diverged" in seen or len(seen) > 1


def marks_content(marks: Mapping[str, str], names: Sequence[str]) -> Content:
    return Content.assemble(
        *[
            (fmt.MARK_GLYPHS.get(marks.get(n, "pending"), "?"), MARK_STYLES.get(marks.get(n, "")))
            for n in names
        ]
    )


class ProbeNavigator(OptionList):
    DEFAULT_CSS = """
    ProbeNavigator, ProbeNavigator:focus {
        width: 100%;
        height: 1fr;
        border: none;
        padding: 0;
        background: $surface;
        scrollbar-size-vertical: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ProbeNavigator > .option-list--option-highlighted { background: $primary 25%; }
    ProbeNavigator:focus > .option-list--option-highlighted { background: $primary 40%; }
    """

    class Picked(Message):
        """The user moved to a probe in the list."""

        def __init__(self, probe_id: str) -> None:
            super().__init__()
            self.probe_id = probe_id

    def __init__(
        self, probe_ids: Sequence[str], names: Sequence[str], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.probe_ids = list(probe_ids)
        self.names = list(names)
        self.marks: dict[str, dict[str, str]] = {pid: {} for pid in probe_ids}
        self.only_disagreements = False
        self.current: str | None = None
        self._quiet = False
        self._shown: list[str] = []

    def on_mount(self) -> None:
        self._rebuild()

    def _prompt(self, probe_id: str) -> Content:
        return Content.assemble(marks_content(self.marks[probe_id], self.names), " ", probe_id)

    def visible(self) -> list[str]:
        if not self.only_disagreements:
            return list(self.probe_ids)
        return [p for p in self.probe_ids if disagree(self.marks[p]) or p == self.current]

    def _rebuild(self) -> None:
        self._shown = self.visible()
        self._quiet = True
        try:
            self.clear_options()
            self.add_options([Option(self._prompt(p), id=p) for p in self._shown])
            if self.current in self._shown:
                self.highlighted = self._shown.index(self.current)
        finally:
            self._quiet = False

    def update_marks(self, marks: Mapping[str, Mapping[str, str]]) -> None:
        changed = False
        for pid, row in marks.items():
            if pid not in self.marks or self.marks[pid] == dict(row):
                continue
            self.marks[pid] = dict(row)
            changed = True
            if pid in self._shown:
                self.replace_option_prompt(pid, self._prompt(pid))
        if changed and self.only_disagreements and self.visible() != self._shown:
            self._rebuild()

    def set_filter(self, only_disagreements: bool) -> None:
        self.only_disagreements = only_disagreements
        self._rebuild()

    def show_probe(self, probe_id: str) -> None:
        """Move the cursor to `probe_id` without announcing it (the screen already knows)."""
        self.current = probe_id
        if self.only_disagreements and probe_id not in self._shown:
            self._rebuild()
            return
        if probe_id in self._shown:
            self._quiet = True
            try:
                self.highlighted = self._shown.index(probe_id)
            finally:
                self._quiet = False

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if self._quiet or event.option.id is None or event.option.id == self.current:
            return
        self.current = event.option.id
        self.post_message(self.Picked(event.option.id))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.current = event.option.id
            self.post_message(self.Picked(event.option.id))
