"""The body of an endpoint pane: one answer, wrapped, with disagreement painted (Line API).

Only the lines on screen are ever rendered, and a streaming answer is re-wrapped from its last
line only (`WrapIndex`), so a token costs O(token) however long the answer grows. `sync()` is
called from the screen's frame timer, never per token.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vvtui.tui.document import Doc, LiveText
from vvtui.tui.wrap import WrapIndex, char_cells

_CLASSES = ("replace", "insert", "missing", "tool", "error", "muted", "diverge", "placeholder")


def _visible(ch: str) -> str:
    """Control characters would move the terminal's cursor: show a placeholder cell instead."""
    if ch == "\t":
        return " "
    return "·" if ch < " " or "\x7f" <= ch < "\xa0" else ch


def _clean(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(_visible(ch) if not ch.isprintable() and char_cells(ch) else ch for ch in text)


class AnswerView(ScrollView, can_focus=False):
    """Shows a `Doc` (finished answer) or a `LiveText` (streaming answer)."""

    COMPONENT_CLASSES = {f"answer--{name}" for name in _CLASSES}

    DEFAULT_CSS = """
    AnswerView {
        height: 1fr;
        overflow-x: hidden;
        /* Always a scrollbar: one that came and went with every answer longer than the pane
           made Textual lay out the whole screen each time (30-50 ms with 16 panes). */
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        /* The track takes the pane's colour: only a thumb shows, and only with something to
           scroll to. */
        scrollbar-background: $surface;
        scrollbar-background-hover: $surface;
        scrollbar-background-active: $surface;
        padding: 0 1;
    }
    AnswerView > .answer--replace { background: $vv-diff-replace; }
    AnswerView > .answer--insert { background: $vv-diff-insert; }
    AnswerView > .answer--missing { color: $vv-diff-missing; text-style: strike; }
    AnswerView > .answer--diverge {
        color: $background; background: $vv-diff-diverge; text-style: bold;
    }
    AnswerView > .answer--tool { color: $vv-tool; }
    AnswerView > .answer--error { color: $error; text-style: bold; }
    AnswerView > .answer--muted { color: $text-muted; text-style: italic; }
    AnswerView > .answer--placeholder { color: $text-muted; text-style: italic; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._doc: Doc | LiveText | None = None
        self._placeholder = ""
        self._wrap = WrapIndex(1)
        self._seen_length = -1
        self._seen_generation = -1
        # Rendered lines, for repaints of lines that did not change. Small on purpose: a Strip
        # carries seven little caches of its own, and 16 panes x 512 of them were most of what
        # the cyclic GC walked in every full collection while answers stream.
        self._cache: LRUCache[tuple[int, int, int, int, int], Strip] = LRUCache(96)
        self._styles: dict[str, Style] = {}
        self._text_shown_lines = 0

    # ------------------------------------------------------------------ content

    @property
    def doc(self) -> Doc | LiveText | None:
        return self._doc

    @property
    def plain_text(self) -> str:
        """What the pane shows, as text (tests and screen readers)."""
        if self._doc is None:
            return self._placeholder
        return self._doc.flush()

    def show(self, doc: Doc | LiveText | None, placeholder: str = "") -> None:
        """Show another document (or a placeholder line when None)."""
        if doc is self._doc and placeholder == self._placeholder:
            return
        self._doc = doc
        self._placeholder = placeholder
        self._wrap.reset(self._text_width())
        self._seen_length = -1
        self._seen_generation = -1
        self._cache.clear()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.sync(force=True)

    def sync(self, force: bool = False) -> bool:
        """Catch up with appended text; returns True when something was redrawn."""
        doc = self._doc
        if doc is None:
            if force:
                self._text_shown_lines = 0
                self._grow(1)
                self.refresh()
            return force
        length = len(doc.flush())
        if not force and length == self._seen_length and doc.generation == self._seen_generation:
            return False
        viewport = self.scrollable_content_region.height
        at_bottom = self.scroll_y >= max(0, self._text_shown_lines - viewport) - 1
        text = doc.flush()
        full = force or doc.generation != self._seen_generation
        if full:
            # Runs, the mark or text already drawn changed: wrap everything again (rare).
            self._wrap.reset(self._text_width())
        first = self._wrap.update(text)
        if doc.generation != self._seen_generation:
            self._cache.clear()
            self._seen_generation = doc.generation
        self._seen_length = length
        height = len(self._wrap.lines)
        self._grow(height)
        if full:
            self.refresh()
        else:
            # Only the lines the new text touched: appending never repaints the whole pane.
            self.refresh_lines(first, height - first)
        bottom = max(0, height - viewport)
        if at_bottom and isinstance(doc, LiveText) and bottom > self.scroll_y:
            # Follow the stream only when the reader was already at the end, half a pane at a
            # time: a scroll repaints every line of the pane, and scrolling line by line had 16
            # streaming panes repaint nearly the whole screen on every frame.
            target = bottom + max(0, viewport // 2 - 1)
            self.scroll_to(y=min(target, self.max_scroll_y), animate=False, immediate=True)
        return True

    def _grow(self, lines: int) -> None:
        """Set the scrollable height for `lines` of text. A change of virtual size costs a layout
        pass of the whole screen, so the height grows in steps (blank lines below the text) and
        not at all while the text fits."""
        viewport = max(1, self.scrollable_content_region.height)
        step = max(8, viewport // 2)
        height = viewport if lines <= viewport else -(-lines // step) * step
        if self._text_shown_lines > lines:
            height = max(viewport, lines)  # a shorter document: shrink
        self._text_shown_lines = lines
        size = Size(self._text_width(), height)
        if size == self.virtual_size:
            return
        old = self.virtual_size
        if self.show_vertical_scrollbar and old.width == size.width:
            # Growing or shrinking under the scrollbar that is always there (overflow-y: scroll):
            # `self.virtual_size = size` would ask for a layout pass of the whole screen (30-50
            # ms with 16 panes on the benchmark machine), yet nothing moves but this view's
            # scroll range. Update just that.
            self.set_reactive(AnswerView.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size  # the first size, or a new width: a real layout change

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width - 1)

    # ------------------------------------------------------------------ Textual hooks

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    def on_resize(self) -> None:
        width = self._text_width()
        if width != self._wrap.width:
            self._wrap.reset(width)
            self._cache.clear()
            self._seen_length = -1
            self.sync(force=True)

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"answer--{name}")
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if self._doc is None:
            if index == 0 and self._placeholder:
                placeholder = Strip([Segment(self._placeholder, self._style("placeholder"))])
                return placeholder.crop_extend(0, width, base)
            return Strip.blank(width, base)
        lines = self._wrap.lines
        if index >= len(lines):
            return Strip.blank(width, base)
        start, end = lines[index]
        key = (index, start, end, self._seen_generation, width)
        strip = self._cache.get(key)
        if strip is None:
            mark = self._doc.mark
            # A divergence on a line break or a wrapped space has no cell of its own.
            at_end = (
                mark == end
                and mark < len(self._doc.flush())
                and (index + 1 >= len(lines) or lines[index + 1][0] > mark)
            )
            strip = self._render_span(start, end, base, at_end).crop_extend(0, width, base)
            self._cache[key] = strip
        return strip

    def _render_span(self, start: int, end: int, base: Style, mark_at_end: bool) -> Strip:
        doc = self._doc
        assert doc is not None
        text = doc.flush()
        runs = doc.runs
        mark = doc.mark
        # Cut points: run edges and the mark, inside [start, end).
        cuts = {start, end}
        i = max(0, bisect_right(runs, (start, 1 << 62, "")) - 1)
        while i < len(runs) and runs[i][0] < end:
            s, e, _ = runs[i]
            cuts.add(min(max(s, start), end))
            cuts.add(min(max(e, start), end))
            i += 1
        if mark is not None and start <= mark < end:
            cuts.update((mark, mark + 1))
        points = sorted(cuts)
        segments: list[Segment] = []
        j = max(0, bisect_right(runs, (start, 1 << 62, "")) - 1)
        for a, b in itertools.pairwise(points):
            if b <= a:
                continue
            while j < len(runs) and runs[j][1] <= a:
                j += 1
            style = base
            if j < len(runs) and runs[j][0] <= a < runs[j][1]:
                style = base + self._style(runs[j][2])
            if mark is not None and a == mark:
                style = style + self._style("diverge")
            segments.append(Segment(_clean(text[a:b]), style))
        if mark_at_end:
            segments.append(
                Segment("↵" if text[end] == "\n" else "␣", base + self._style("diverge"))
            )
        return Strip(segments)
