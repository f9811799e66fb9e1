"""How many panes across and down, for a number of endpoints and the room there is."""

from __future__ import annotations

import math

# A pane this wide shows its whole footer (TTFT, tok/s, cost; fidelity, verdict and trend) and
# this tall a few lines of answer: panes stay side by side while they keep this much room.
COMFORT_WIDTH = 40
COMFORT_HEIGHT = 10
# Below these a pane stops being readable at all.
MIN_PANE_WIDTH = 28
MIN_PANE_HEIGHT = 7
# The probe list is shown by default only when the panes keep enough room beside it.
SIDEBAR_WIDTH = 34
SIDEBAR_MIN_SCREEN = 150


def grid_shape(n: int, width: int, height: int) -> tuple[int, int]:
    """(columns, rows) for `n` panes in `width` × `height` cells: the fewest rows that keep every
    pane comfortable; failing that, the fewest rows that keep them readable; balanced rows."""
    if n <= 0:
        return 1, 1
    shapes = [(math.ceil(n / rows), rows) for rows in range(1, n + 1)]
    for min_w, min_h in ((COMFORT_WIDTH, COMFORT_HEIGHT), (MIN_PANE_WIDTH, MIN_PANE_HEIGHT)):
        for cols, rows in shapes:
            if width // cols >= min_w and height // rows >= min_h:
                return cols, rows
    # Nothing is readable: keep the width, let the grid grow taller than the screen.
    for cols, rows in shapes:
        if width // cols >= MIN_PANE_WIDTH:
            return cols, rows
    return 1, n


def sidebar_by_default(screen_width: int) -> bool:
    return screen_width >= SIDEBAR_MIN_SCREEN


# A pane shows at least this many lines of answer; below that, fewer panes are shown at once
# and the rest are paged through. Its frame: border (2), header (1), footer (2).
MIN_ANSWER_LINES = 6
PANE_FRAME = 5


def panes_that_fit(n: int, width: int, height: int) -> int:
    """How many of `n` panes fit in `width` × `height` cells keeping MIN_ANSWER_LINES of answer
    and MIN_PANE_WIDTH each (at least one: a screen too small still shows something)."""
    cols = max(1, width // MIN_PANE_WIDTH)
    rows = max(1, height // (MIN_ANSWER_LINES + PANE_FRAME))
    return max(1, min(n, cols * rows))


def pane_pages(priority: list[str], per_page: int) -> list[list[str]]:
    """Pages of pane names in `priority` order, `per_page` to a page. The first name (the
    reference) is on every page when a page holds more than one: the others are read against
    it."""
    if per_page >= len(priority):
        return [list(priority)]
    if per_page <= 1:
        return [[name] for name in priority]
    head, rest = priority[0], priority[1:]
    step = per_page - 1
    return [[head, *rest[i : i + step]] for i in range(0, len(rest), step)]
