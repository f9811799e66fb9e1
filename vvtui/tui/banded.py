"""A compositor that repaints a screen's changes band by band (issue #17).

Textual's compositor repaints every widget that overlaps the box around *all* of an update's
dirty regions. On the run screen one update often holds the run bar (top line), a probe mark in
the sidebar, a row of answer panes and a scoreboard row (bottom): their box is the whole screen,
so each of 16 panes, their header and stats lines and the scoreboard were rendered again (~60 ms
a frame with 16 streaming panes, the event loop's longest stall) to change a few lines. Here the
dirty regions are grouped into horizontal bands of nearby lines, and each band is rendered within
its own box. The lines sent to the terminal are the same; only fewer widgets are asked for them.

Each widget is asked only for the lines of the band it crosses (Textual asks a widget that is not
clipped for all of its lines, whatever the crop).

An update may also be given a time budget (`budget_s`). Bands are then cut into pieces of at
most `PIECE_LINES` lines and rendered until the budget is spent; the pieces left over stay dirty
for the next update, which starts where this one stopped (so every piece gets its turn however
busy the screen is). No single screen update then holds the event loop much longer than the
budget, whatever a frame changed: a keypress waits one piece, not the whole screen. And with a
`share`, updates render for at most that share of the time on average: a screen whose every pane
streams fast draws each row a few times a second instead of taking a core to draw them all at
every frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from time import perf_counter
from typing import Any

import textual._compositor as _textual_compositor
from textual._compositor import Compositor
from textual.geometry import Region

# Textual's private pieces this leans on. A Textual release without them gets Textual's own
# compositor (`compositor()` below): slower frames, never a broken screen.
ChopsUpdate: Any = getattr(_textual_compositor, "ChopsUpdate", None)
_NEEDS = (
    "_dirty_regions",
    "_regions_to_spans",
    "_render_chops",
    "_get_renders",
    "cuts",
    "size",
    "visible_widgets",
)

# Dirty regions this many lines apart or closer share a band: each band renders the containers
# around it again (screen, body, grid: cheap but not free), so lines of one pane row stay together.
BAND_GAP = 3
# With a budget, bands are rendered in pieces this many lines tall at most: the budget is checked
# between pieces, so a piece is what an update can overrun it by (a line across 16 answer panes
# costs ~2-3 ms on the benchmark machine).
PIECE_LINES = 2


Span = tuple[int, int, int]  # (y, x1, x2): one line's dirty columns, as Textual's spans


def groups(spans: list[Span], gap: int, lines: int | None = None) -> list[list[Span]]:
    """Spans (sorted by line) grouped into runs with at most `gap` clean lines between dirty
    ones, each run cut into pieces of at most `lines` lines when given."""
    out: list[list[Span]] = []
    last_y = -(1 << 30)
    count = 0
    for span in spans:
        y = span[0]
        if y != last_y:
            if y - last_y - 1 > gap or (lines is not None and count >= lines):
                out.append([])
                count = 0
            count += 1
            last_y = y
        out[-1].append(span)
    return out


class BandedCompositor(Compositor):
    def __init__(self, budget_s: float | None = None, share: float | None = None) -> None:
        super().__init__()
        # Seconds an update may spend rendering before it leaves the rest for the next one.
        self.budget_s = budget_s
        # The share of wall time updates may spend rendering, on average (None: no limit). Time
        # not spent accrues, up to one `budget_s`; an update that finds none left renders
        # nothing and leaves it all for a later one.
        self.share = share
        self._allowance = budget_s or 0.0
        self._accrued_at = perf_counter()
        # Budget and share apply only while throttled (the run screen: while answers stream),
        # and not until `_urgent_until` (a keypress: its answer is drawn at once, whole).
        self.throttled = True
        self._urgent_until = 0.0
        # The line the next update starts from (where a budget last stopped one).
        self._resume_y = 0

    def urgent(self, seconds: float) -> None:
        """Draw everything that changes within `seconds` at once (what a keypress changed)."""
        self._urgent_until = perf_counter() + seconds

    def _budget(self) -> float | None:
        """This update's budget in seconds (None: unlimited). With a share, 0 or less means
        none is left; otherwise the first piece is always drawn, whatever the budget."""
        now = perf_counter()
        if not self.throttled or now < self._urgent_until:
            self._accrued_at = now
            return None
        if self.budget_s is None or self.share is None:
            return self.budget_s
        accrued = (now - self._accrued_at) * self.share
        self._accrued_at = now
        self._allowance = min(self.budget_s, self._allowance + accrued)
        return self._allowance

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list]]:
        """Each widget's lines within the crop's rows only.

        Textual renders a widget that is not clipped whole, whatever the crop: a one-line change
        had every unclipped widget across that line (the screen, the grid, four panes and their
        parts, the scoreboard) render all of its lines, ~5 ms a line at 240 columns. Here the
        widget's clip is narrowed to the crop's rows (never its columns: strips are cut at
        widget edges, which a crop's sides need not be), so only those lines are asked for."""
        if crop is None:
            yield from super()._get_renders(crop)
            return
        rows = Region(0, crop.y, self.size.width, crop.height)
        overlaps = crop.overlaps
        for widget, (region, clip) in self.visible_widgets.items():
            if not overlaps(clip):
                continue
            visible = region.intersection(clip).intersection(rows)
            if not visible:
                continue
            x, y, width, height = visible
            lines = widget.render_lines(Region(x - region.x, y - region.y, width, height))
            yield region, visible, lines

    @property
    def carried(self) -> bool:
        """Whether regions are waiting for the next update (a budget stopped the last one)."""
        return bool(self._dirty_regions)

    def render_partial_update(self) -> Any:
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        screen = self.size.region
        spans = [
            (y, x1, x2)
            for y, x1, x2 in self._regions_to_spans(update_regions)
            if 0 <= y < screen.height and x2 > x1
        ]
        budget = self._budget()
        if self.share is not None and budget is not None and budget <= 0:
            self._dirty_regions = update_regions  # all of it waits for the next update
            return None
        started = perf_counter()
        if budget is None:
            todo = groups(spans, BAND_GAP)
        else:
            # Contiguous lines only: a piece's rows are rendered for every widget across them.
            todo = groups(spans, 0, PIECE_LINES)
            # Start where the last update stopped: pieces further down must not wait forever
            # behind a top that keeps changing.
            first = next((i for i, g in enumerate(todo) if g[0][0] >= self._resume_y), 0)
            todo = todo[first:] + todo[:first]
            deadline = started + budget
        chops: list | None = None
        done: list[Span] = []
        for n, group in enumerate(todo):
            if budget is not None and n and perf_counter() >= deadline:
                self._dirty_regions.update(
                    Region(x1, y, x2 - x1, 1) for later in todo[n:] for y, x1, x2 in later
                )
                self._resume_y = group[0][0]
                break
            top, bottom = group[0][0], group[-1][0] + 1
            left = min(x1 for _, x1, _ in group)
            right = max(x2 for _, _, x2 in group)
            crop = Region(left, top, right - left, bottom - top).intersection(screen)
            lines = {y for y, _, _ in group}
            group_chops = self._render_chops(crop, lines.__contains__)
            if chops is None:
                chops = list(group_chops)
            else:
                chops[top:bottom] = group_chops[top:bottom]
            done += group
        else:
            self._resume_y = 0
        if self.share is not None and budget is not None:
            self._allowance -= perf_counter() - started
        if chops is None or not done:
            return None
        done.sort()
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return ChopsUpdate(chops, done, chop_ends)


def compositor(budget_s: float | None = None, share: float | None = None) -> Compositor:
    """The banded compositor when this Textual has what it overrides, else Textual's own."""
    plain = Compositor()
    if ChopsUpdate is None or not all(hasattr(plain, name) for name in _NEEDS):
        return plain
    return BandedCompositor(budget_s, share)
