"""The per-endpoint summary table printed by headless runs and `vvtui score`."""

from __future__ import annotations

from typing import Any

from vvtui.model import Snapshot

# The scoreboard columns a terminal has room for, picked from the one definition every report
# shares (vvtui.reports.scoreboard.COLUMNS), so the headless table, `vvtui score` and the
# Markdown/HTML scoreboards never disagree on a value's meaning or formatting.
TERMINAL_COLUMNS = (
    "endpoint",
    "fidelity",
    "ci",
    "verdict",
    "accuracy",
    "tool_f1",
    "kl_mean",
    "ttft_p50",
    "tps_p50",
    "cost_usd",
    "verdict_cost",
    "errors",
    "gaps",
    "conformance",
)


def endpoint_rows(
    snapshot: Snapshot, keys: tuple[str, ...] = TERMINAL_COLUMNS
) -> tuple[list[str], list[list[str]], frozenset[int]]:
    """Headers, rows and right-aligned column indices of the terminal scoreboard."""
    from vvtui.reports.scoreboard import COLUMNS
    from vvtui.untrusted import shown

    by_key = {c.key: c for c in COLUMNS}
    columns = [by_key[k] for k in keys]
    from vvtui.scoring.decide import costs_to_verdict

    scores = snapshot.scores.get("endpoints", {})
    costs = costs_to_verdict(snapshot)
    rows = [
        [shown(c.text(e, _with_cost(scores.get(e.name, {}), costs.get(e.name)))) for c in columns]
        for e in snapshot.endpoints
    ]
    right = frozenset(i for i, c in enumerate(columns) if c.numeric)
    return [c.label for c in columns], rows, right


def _with_cost(score: dict[str, Any], cost: Any) -> dict[str, Any]:
    return score | {"cost_to_verdict": cost.to_dict()} if cost is not None else score


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
    from vvtui.reports.scoreboard import ESTIMATED, ESTIMATED_NOTE

    headers, rows, right = endpoint_rows(snapshot, keys)
    table = render_table(rows, headers, right)
    if "cost_usd" in keys:
        column = keys.index("cost_usd")
        if any(row[column].endswith(ESTIMATED) for row in rows):
            table += "\n" + ESTIMATED_NOTE
    return table
