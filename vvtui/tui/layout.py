"""How many panes across and down, for a number of endpoints and the room there is."""

from __future__ import annotations

import math

# Narrower than this, answers wrap every few words; lower than this, a pane shows no answer.
MIN_PANE_WIDTH = 30
MIN_PANE_HEIGHT = 7
# The probe list is shown by default only when the panes keep this much room beside it.
SIDEBAR_WIDTH = 34
SIDEBAR_MIN_SCREEN = 150


def grid_shape(n: int, width: int, height: int) -> tuple[int, int]:
    """(columns, rows) for `n` panes in `width` × `height` cells: side by side while each keeps
    MIN_PANE_WIDTH, wrapped into balanced rows beyond that."""
    if n <= 0:
        return 1, 1
    max_cols = max(1, min(n, width // MIN_PANE_WIDTH))
    rows = math.ceil(n / max_cols)
    cols = math.ceil(n / rows)
    return cols, rows


def sidebar_by_default(screen_width: int) -> bool:
    return screen_width >= SIDEBAR_MIN_SCREEN
