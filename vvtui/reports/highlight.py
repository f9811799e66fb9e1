"""Cut an answer into runs for diff highlighting, from a comparison's alignment spans.

The meaning is the TUI's: `replace` (both sides have text here and it differs), `insert` (the
candidate has text the reference lacks), `delete` (reference text missing from the candidate),
a `gap` where the other side has text this side lacks, and the first divergence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from vvtui.model import Result
    from vvtui.scoring import ProbeComparison

Side = Literal["ref", "cand"]


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    # equal | replace | insert | delete | gap (an empty marker: the other side has text here)
    tag: str
    # Part of the first divergent block.
    first: bool = False


def runs(text: str, comparison: ProbeComparison | None, side: Side) -> list[Run]:
    """`text` (the reference's answer for side "ref", the candidate's for "cand") cut into
    runs. Without alignment spans the whole text is one equal run."""
    spans = [] if comparison is None else comparison.spans
    if not spans:
        return [Run(text, "equal")] if text else []
    n = len(text)
    tags = ["equal"] * n
    first = [False] * n
    gaps: dict[int, tuple[str, bool]] = {}
    first_index = next((i for i, s in enumerate(spans) if s.tag != "equal"), None)
    # Non-equal blocks are painted over equal ones: neighbouring blocks may share a character
    # split between two tokens, and that character belongs to the difference.
    for index, span in enumerate(spans):
        if span.tag == "equal":
            continue
        start, end = (
            (span.ref_start, span.ref_end) if side == "ref" else (span.cand_start, span.cand_end)
        )
        start, end = max(0, min(start, n)), max(0, min(end, n))
        is_first = index == first_index
        if end > start:
            for i in range(start, end):
                tags[i] = span.tag
                first[i] = first[i] or is_first
        else:
            gaps.setdefault(start, ("gap", is_first))
    out: list[Run] = []
    i = 0
    while i <= n:
        if i in gaps:
            tag, is_first = gaps[i]
            out.append(Run("", tag, is_first))
        if i == n:
            break
        j = i + 1
        while j < n and tags[j] == tags[i] and first[j] == first[i] and j not in gaps:
            j += 1
        out.append(Run(text[i:j], tags[i], first[i]))
        i = j
    return out


def _canonical(name: str, arguments: str) -> tuple[str, str]:
    import json

    try:
        return name, json.dumps(json.loads(arguments), sort_keys=True)
    except ValueError:
        return name, arguments.strip()


def call_lines(result: Result | None, other: Result | None) -> list[tuple[str, bool]]:
    """`result`'s tool calls as display lines, each flagged when `other` made no such call
    (same function, same arguments once parsed). Nothing is flagged without an `other`."""
    if result is None:
        return []
    if other is None:
        return [(f"→ {c.name}({c.arguments})", False) for c in result.tool_calls]
    theirs = {_canonical(c.name, c.arguments) for c in other.tool_calls}
    return [
        (f"→ {c.name}({c.arguments})", _canonical(c.name, c.arguments) not in theirs)
        for c in result.tool_calls
    ]
