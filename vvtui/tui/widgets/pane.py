"""One endpoint's pane: who it is and how its answer is going (header), the answer (body), its
run so far (stats line and, in the bottom border, fidelity with interval, verdict and trend)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from vvtui.model import EndpointInfo
from vvtui.scoring import EndpointScore
from vvtui.tui import format as fmt
from vvtui.tui.document import Doc, LiveText
from vvtui.tui.state import SlotStatus
from vvtui.tui.widgets.answer import AnswerView

STATE_STYLES = {
    "waiting": "dim",
    "streaming": "$accent",
    "retrying": "$warning",
    "done": "$success",
    "error": "b $error",
    "cancelled": "$warning",
}
STATE_GLYPHS = {
    "waiting": "○",
    "streaming": "●",
    "retrying": "↻",
    "done": "✓",
    "error": "✗",
    "cancelled": "■",
}
VERDICT_STYLES = {
    "faithful": "$vv-mark-pass",
    "degraded": "$vv-mark-fail",
    "inconclusive": "$vv-mark-diverged",
    "reference": "$primary",
}


@dataclass(slots=True)
class PaneStats:
    """The endpoint's run so far, from the Scorer (the pane formats, never computes)."""

    ttft_p50: float | None = None
    tps_p50: float | None = None
    cost_usd: float | None = None
    history: tuple[float, ...] = ()


class EndpointPane(Vertical):
    DEFAULT_CSS = """
    EndpointPane {
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 5;
        background: $surface;
    }
    EndpointPane.-reference { border: round $primary 60%; }
    EndpointPane.-error { border: round $error; }
    EndpointPane.-selected-probe-diverged { border: round $vv-mark-diverged 70%; }
    EndpointPane > .pane-header { height: 1; padding: 0 1; }
    EndpointPane .pane-model {
        width: 1fr; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    EndpointPane .pane-status {
        width: auto; max-width: 70%; padding-left: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    EndpointPane > .pane-stats { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; }
    """

    def __init__(self, info: EndpointInfo, *, reference: bool, index: int) -> None:
        # Ids by position: endpoint names may hold characters ids cannot.
        super().__init__(id=f"pane-{index}", classes="-reference" if reference else "")
        self.info = info
        self.reference = reference
        self._stats = PaneStats()
        self._score: EndpointScore | None = None
        self._status: tuple[str, str, str] | None = None
        self._upstream: str | None = None
        # Numbered like the navigator's mark columns, so a mark can be traced to its pane.
        title = f"{index + 1} {info.name}" + (" ★" if reference else "")
        self.border_title = Content(title)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="pane-header"):
            yield Static(self._model_line(), classes="pane-model")
            yield Static("", classes="pane-status")
        yield AnswerView()
        yield Static("", classes="pane-stats", id="stats")
        yield Static("", classes="pane-stats", id="trend")

    @property
    def answer(self) -> AnswerView:
        return self.query_one(AnswerView)

    def _model_line(self) -> Content:
        parts = [self.info.model]
        if self._upstream:
            parts.append(f"via {self._upstream}")
        if self.info.simulated:
            label = self.info.labels.get("simulated")
            parts.append(f"sim: {label}" if label else "simulated")
        return Content(" · ".join(parts))

    # ------------------------------------------------------------------ updates

    def show(self, doc: Doc | LiveText | None, placeholder: str = "") -> None:
        self.answer.show(doc, placeholder)

    def sync(self) -> bool:
        return self.answer.sync()

    def set_upstream(self, upstream: str | None) -> None:
        if upstream != self._upstream:
            self._upstream = upstream
            self.query_one(".pane-model", Static).update(self._model_line())

    def set_status(self, status: SlotStatus, note: str = "") -> None:
        """Header status for the answer shown: its state ("● streaming · 12 tok", "✗ error:
        http: 503 ..."), or once it is done, `note` (its mark, e.g. "≠ at token 3")."""
        key = (status.state, status.detail, note)
        if key == self._status:
            return
        self._status = key
        if status.state == "done" and note:
            content = Content.from_markup(note)
        else:
            glyph = STATE_GLYPHS.get(status.state, "")
            text = f"{glyph} {status.state}"
            if status.detail:
                sep = {"error": ": ", "streaming": " "}.get(status.state, " · ")
                text += sep + status.detail
            content = Content.styled(fmt.truncate(text, 200), STATE_STYLES.get(status.state, ""))
            if note:
                content = Content.assemble(content, " · ", Content.from_markup(note))
        self.query_one(".pane-status", Static).update(content)
        self.set_class(status.state == "error", "-error")

    def set_stats(self, score: EndpointScore | None, history: list[float]) -> None:
        self._score = score
        if score is not None:
            self._stats = PaneStats(score.ttft_p50, score.tps_p50, score.cost_usd, tuple(history))
        self._render_stats()

    def on_resize(self) -> None:
        self._render_stats()

    def _render_stats(self) -> None:
        stats = self._stats
        width = max(10, self.size.width - 4)
        ttft, tps, cost = (
            fmt.millis(stats.ttft_p50),
            fmt.rate(stats.tps_p50),
            fmt.cost(stats.cost_usd),
        )
        line = f"TTFT {ttft} · {tps} tok/s · {cost}"
        if len(line) > width:
            line = f"{ttft.replace(' ', '')} {tps}t/s {cost}"
        self.query_one("#stats", Static).update(Content(line))
        score = self._score
        style = "$vv-mark-pass"
        if score is not None:
            style = VERDICT_STYLES.get(score.verdict, style)
        spark = fmt.sparkline(stats.history, max(0, width - 6))
        self.query_one("#trend", Static).update(
            Content.assemble(("trend ", "dim"), (spark or "–", style))
        )
        self.border_subtitle = self._subtitle(score, style, width - 2)

    @staticmethod
    def _subtitle(score: EndpointScore | None, style: str, room: int) -> Content:
        """Fidelity, interval and verdict, shortened to fit the border."""
        if score is None:
            return Content("fidelity –")
        glyph = fmt.VERDICT_GLYPHS.get(score.verdict, "")
        if score.verdict == "reference":
            return Content.styled(f"{glyph} reference", f"b {style}")
        value = fmt.fidelity(score)
        verdict = score.verdict
        for candidate in (f"{glyph} {verdict}", verdict, verdict[:7] + "."):
            if len(value) + 1 + len(candidate) <= room:
                return Content.assemble(f"{value} ", (candidate, f"b {style}"))
        return Content.assemble(f"{value} ", (glyph, f"b {style}"))
