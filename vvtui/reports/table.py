"""The per-endpoint summary table printed by headless runs and `vvtui score`."""

from __future__ import annotations

from vvtui.model import Snapshot
from vvtui.present.columns import TERMINAL_KEYS, any_estimated, pick, row_from_dict

# The scoreboard columns a terminal has room for, picked from the one spec every scoreboard
# shares (vvtui.present.columns), so the headless table, `vvtui score`, the Markdown/HTML
# scoreboards and the TUI never disagree on a value's meaning or formatting.
TERMINAL_COLUMNS = TERMINAL_KEYS


def endpoint_rows(
    snapshot: Snapshot, keys: tuple[str, ...] = TERMINAL_COLUMNS
) -> tuple[list[str], list[list[str]], frozenset[int]]:
    """Headers, rows and right-aligned column indices of the terminal scoreboard."""
    headers, rows, right, _ = _scoreboard(snapshot, keys)
    return headers, rows, right


def _scoreboard(
    snapshot: Snapshot, keys: tuple[str, ...]
) -> tuple[list[str], list[list[str]], frozenset[int], bool]:
    from vvtui.scoring.decide import costs_to_verdict
    from vvtui.untrusted import shown

    columns = pick(keys)
    scores = snapshot.scores.get("endpoints", {})
    costs = costs_to_verdict(snapshot)
    board = [row_from_dict(scores.get(e.name), e, costs.get(e.name)) for e in snapshot.endpoints]
    rows = [[shown(c.text(row)) for c in columns] for row in board]
    right = frozenset(i for i, c in enumerate(columns) if c.numeric)
    return [c.label for c in columns], rows, right, any_estimated(board)


def render_table(rows: list[list[str]], headers: list[str], right: frozenset[int]) -> str:
    """Plain-text columns; `right` holds the indices of right-aligned columns."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def endpoint_table(snapshot: Snapshot, keys: tuple[str, ...] = TERMINAL_COLUMNS) -> str:
    """The table, and under it what a starred run cost means when one is starred."""
    from vvtui.present.columns import ESTIMATED_NOTE

    headers, rows, right, estimated = _scoreboard(snapshot, keys)
    table = render_table(rows, headers, right)
    if "run_cost" in keys and estimated:
        table += "\n" + ESTIMATED_NOTE
    return table
