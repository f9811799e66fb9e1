"""The scoreboard folded to one line per endpoint (`B`): name, fidelity with its interval and the
verdict, KL and cost — what a small terminal has room for. Values are the Scorer's, formatted by
`format` like the full table's."""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.widgets import Static

from vvtui.present.styles import VERDICTS
from vvtui.scoring import EndpointScore
from vvtui.tui import format as fmt


def compact_line(index: int, score: EndpointScore, name_width: int) -> Content:
    name = score.name + (" ★" if score.reference else "")
    look = VERDICTS.get(score.verdict)
    glyph, style = ("", "") if look is None else (look.glyph, look.style)
    return Content.assemble(
        (f"{(index + 1) % 10} ", "dim"),
        (fmt.truncate(name, name_width).ljust(name_width), "b"),
        f" {fmt.fidelity(score):>17} ",
        (f"{glyph} {score.verdict:<12}", style),
        (f" KL {fmt.kl(score.kl_mean):>7}  {fmt.cost(score.cost_usd)}", "$text-muted"),
    )


class CompactBoard(Static):
    DEFAULT_CSS = """
    CompactBoard { height: auto; padding: 0 1; background: $panel; text-wrap: nowrap; }
    """

    def __init__(self, names: list[str], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.names = names
        self._scores: dict[str, EndpointScore] = {}
        self._shown = ""

    def update_scores(self, scores: Mapping[str, EndpointScore]) -> None:
        self._scores.update(scores)
        if self.display:
            self._render_lines()

    def on_show(self) -> None:
        self._render_lines()

    def _render_lines(self) -> None:
        width = min(16, max((len(n) + 2 for n in self.names), default=8))
        lines = [
            compact_line(i, self._scores[name], width)
            for i, name in enumerate(self.names)
            if name in self._scores
        ]
        content = Content("\n").join(lines)
        if content.plain != self._shown:
            self._shown = content.plain
            self.update(content)
