"""Every probe with one mark per endpoint (pane order), and a filter for the probes where the
endpoints disagree.

A Line API list rather than an OptionList: marks change with nearly every result, and an
OptionList repaints every visible option when one prompt changes. Here each line is cached by
what it shows, so a new mark repaints one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vvtui.model import PENDING, Mark
from vvtui.present.styles import MARKS as STYLE_MARKS
from vvtui.tui import format as fmt

# Every mark of the style table (vvtui.present.styles), each a component class below.
MARKS = tuple(STYLE_MARKS)
BOLD_MARKS = frozenset({"fail", "diverged", "error"})


def disagree(marks: Mapping[str, Mark]) -> bool:
    """Endpoints disagree on a probe when one departs from the reference's answer or their
    outcomes differ (marks that are still pending do not count)."""
    seen = {m for m in marks.values() if m != PENDING}
    return "diverged" in seen or len(seen) > 1


def departs(marks: Mapping[str, Mark], name: str, reference: str) -> bool:
    """This endpoint's answer departs from the reference's on a probe: it diverged, or its
    outcome (fail, error) is not the reference's."""
    mark = marks.get(name, PENDING)
    return mark == "diverged" or (mark in ("fail", "error") and mark != marks.get(reference))


class ProbeNavigator(ScrollView, can_focus=True):
    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", "Up", show=False, id="probes-up", tooltip="Previous probe"),
        Binding("down", "cursor(1)", "Down", show=False, id="probes-down", tooltip="Next probe"),
        Binding(
            "pageup", "cursor(-10)", "Page up", show=False, id="probes-pageup", tooltip="Back 10"
        ),
        Binding(
            "pagedown", "cursor(10)", "Page down", show=False, id="probes-pagedown", tooltip="On 10"
        ),
        Binding("home", "cursor(-100000)", "First", show=False, id="probes-home", tooltip="First"),
        Binding("end", "cursor(100000)", "Last", show=False, id="probes-end", tooltip="Last"),
    ]

    COMPONENT_CLASSES = {
        *(f"navigator--{m}" for m in MARKS),
        "navigator--cursor",
        "navigator--cursor-focused",
    }

    DEFAULT_CSS = """
    ProbeNavigator {
        width: 100%;
        height: 1fr;
        padding: 0 1;
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    ProbeNavigator > .navigator--cursor { background: $primary 25%; }
    ProbeNavigator > .navigator--cursor-focused { background: $primary 45%; text-style: bold; }
    """ + "".join(
        # Each mark in its colour from the style table; the bad news in bold.
        f"ProbeNavigator > .navigator--{name} {{ color: {look.style};"
        f"{' text-style: bold;' if name in BOLD_MARKS else ''} }}\n"
        for name, look in STYLE_MARKS.items()
    )

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
        self.marks: dict[str, dict[str, Mark]] = {pid: {} for pid in probe_ids}
        self.only_disagreements = False
        self.current: str | None = None
        self._shown: list[str] = list(self.probe_ids)
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._styles: dict[str, Style] = {}

    # ------------------------------------------------------------------ content

    def visible_probes(self) -> list[str]:
        if not self.only_disagreements:
            return list(self.probe_ids)
        return [p for p in self.probe_ids if disagree(self.marks[p]) or p == self.current]

    @property
    def option_count(self) -> int:
        return len(self._shown)

    def on_mount(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        self._shown = self.visible_probes()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._shown))
        self.refresh()
        self._scroll_to_current()

    def update_marks(self, marks: Mapping[str, Mapping[str, Mark]]) -> None:
        changed = False
        for pid, row in marks.items():
            if pid not in self.marks or self.marks[pid] == dict(row):
                continue
            self.marks[pid] = dict(row)
            changed = True
            if pid in self._shown:
                self.refresh_line(self._shown.index(pid))
        if changed and self.only_disagreements and self.visible_probes() != self._shown:
            self._rebuild()

    def set_filter(self, only_disagreements: bool) -> None:
        self.only_disagreements = only_disagreements
        self._rebuild()

    def show_probe(self, probe_id: str) -> None:
        """Move the cursor to `probe_id` without announcing it (the screen already knows)."""
        old = self.current
        self.current = probe_id
        if self.only_disagreements and probe_id not in self._shown:
            self._rebuild()
            return
        for pid in (old, probe_id):
            if pid in self._shown:
                self.refresh_line(self._shown.index(pid))
        self._scroll_to_current()

    def _scroll_to_current(self) -> None:
        if self.current not in self._shown:
            return
        y = self._shown.index(self.current)
        height = max(1, self.scrollable_content_region.height)
        if y < self.scroll_y or y >= self.scroll_y + height:
            self.scroll_to(y=max(0, y - height // 2), animate=False, immediate=True)

    # ------------------------------------------------------------------ input

    def _pick(self, index: int) -> None:
        if not self._shown:
            return
        pid = self._shown[max(0, min(len(self._shown) - 1, index))]
        if pid != self.current:
            self.show_probe(pid)
            self.post_message(self.Picked(pid))

    def action_cursor(self, delta: int) -> None:
        index = self._shown.index(self.current) if self.current in self._shown else -1
        self._pick(index + delta if index >= 0 else 0)

    async def _on_click(self, event: events.Click) -> None:
        index = event.style.meta.get("probe")
        if index is not None:
            self._pick(int(index))

    def _on_focus(self, event: events.Focus) -> None:
        self._cache.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._cache.clear()
        self.refresh()

    # ------------------------------------------------------------------ rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"navigator--{name}")
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if index >= len(self._shown):
            return Strip.blank(width, base)
        pid = self._shown[index]
        row = self.marks.get(pid, {})
        marks = tuple(row.get(n, PENDING) for n in self.names)
        cursor = pid == self.current
        key = (pid, marks, cursor, self.has_focus, width)
        strip = self._cache.get(key)
        if strip is None:
            line_style = base
            if cursor:
                line_style = base + self._style("cursor-focused" if self.has_focus else "cursor")
            meta = Style.from_meta({"probe": index})
            segments = [
                Segment(fmt.MARK_GLYPHS.get(m, "?"), line_style + self._style(m) + meta)
                for m in marks
            ]
            room = width - len(marks) - 1
            label = pid if len(pid) <= room else pid[: max(0, room - 1)] + "…"
            segments.append(Segment(" " + label, line_style + meta))
            strip = Strip(segments).crop_extend(0, width, line_style)
            self._cache[key] = strip
        return strip

    def on_resize(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._shown))
