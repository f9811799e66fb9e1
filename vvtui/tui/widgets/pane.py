"""One endpoint's pane: who it is and how its answer is going (header), the answer (body), and
its run so far (TTFT, tok/s, cost; fidelity with interval and verdict, and its trend).

Every line here has a fixed size and changes on its own: updates repaint that one line without a
layout pass (`layout=False`). Nothing that changes during a run sits in the border, since a
border change repaints the whole pane.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from vvtui.model import EndpointInfo
from vvtui.present.styles import VERDICTS
from vvtui.scoring import EndpointScore
from vvtui.scoring.conformance import summary_line
from vvtui.scoring.report import NO_ANSWERS
from vvtui.tui import format as fmt
from vvtui.tui.document import Doc, LiveText
from vvtui.tui.state import SlotStatus
from vvtui.tui.widgets.answer import AnswerView
from vvtui.untrusted import shown

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
# The streaming token count in a header moves at most this often (seconds).
STREAMING_STATUS_S = 0.25
# A trend shorter than this says nothing.
SPARK_MIN = 6
# A verdict's colour, from the one style table (vvtui.present.styles).
VERDICT_STYLES = {name: look.style for name, look in VERDICTS.items()}


@dataclass(slots=True)
class PaneStats:
    """The endpoint's run so far, from the Scorer (the pane formats, never computes)."""

    ttft_p50: float | None = None
    tps_p50: float | None = None
    cost_usd: float | None = None
    history: tuple[float, ...] = ()


def header_line(model: str, status: Content, width: int) -> Content:
    """`model` on the left, `status` on the right; the model gives way first."""
    status = status.truncate(max(1, width - 2), ellipsis=True)
    room = width - status.cell_length - 1
    if room < 4:
        return status
    left = model if len(model) <= room else model[: room - 1] + "…"
    gap = " " * max(1, width - len(left) - status.cell_length)
    return Content.assemble((left, "dim"), gap, status)


class EndpointPane(Vertical):
    # `m` fills the screen with the selected pane (Textual's maximize; escape restores).
    ALLOW_MAXIMIZE = True

    class Selected(Message):
        """The pane was clicked: it becomes the one `i`, `m` and `x` act on."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    DEFAULT_CSS = """
    EndpointPane {
        border: round $foreground 22%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 5;
        background: $surface;
    }
    EndpointPane.-reference { border: round $primary 60%; }
    EndpointPane.-error { border: round $error; }
    EndpointPane.-selected { border: heavy $accent; }
    EndpointPane > .pane-line { height: 1; padding: 0 1; text-wrap: nowrap; }
    EndpointPane > .pane-stats { color: $text-muted; }
    """

    def __init__(
        self, info: EndpointInfo, *, reference: bool, index: int, until_decided: bool = False
    ) -> None:
        # Ids by position: endpoint names may hold characters ids cannot.
        super().__init__(id=f"pane-{index}", classes="-reference" if reference else "")
        self.info = info
        self.reference = reference
        self._stats = PaneStats()
        self._trouble: tuple[str, bool] | None = None
        self._score: EndpointScore | None = None
        self._status_key: tuple[str, str, str] | None = None
        self._status_at = 0.0
        self._status = Content("")
        self._upstream: str | None = None
        self._lines: dict[str, tuple[object, ...]] = {}
        self._answer = AnswerView()
        # --until-decided runs add a line saying what the verdict cost or why probes stopped.
        self._until_decided = until_decided and not reference
        self._decision: tuple[str, ...] = ()
        # Numbered like the navigator's mark columns, so a mark can be traced to its pane.
        title = f"{index + 1} {info.name}" + (" ★" if reference else "")
        self.border_title = Content(title)

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-line", id="header")
        yield self._answer
        yield Static("", classes="pane-line pane-stats", id="stats")
        yield Static("", classes="pane-line pane-stats", id="trend")
        line = Static("", classes="pane-line pane-stats", id="conformance")
        # Shown only when conformance was checked: otherwise the row goes to the answer.
        line.display = bool(self.info.conformance)
        yield line
        if self._until_decided:
            yield Static("", classes="pane-line pane-stats", id="decision")

    @property
    def answer(self) -> AnswerView:
        # Held, not queried: the frame timer asks every pane for it 15 times a second.
        return self._answer

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Selected(self.info.name))

    def set_selected(self, selected: bool) -> None:
        self.set_class(selected, "-selected")

    @property
    def status_text(self) -> str:
        return self._status.plain

    def _model_line(self) -> str:
        parts = [self.info.model]
        if self._upstream:
            parts.append(f"via {self._upstream}")
        if self.info.simulated:
            label = self.info.labels.get("simulated")
            parts.append(f"sim: {label}" if label else "simulated")
        # Conformance gaps: features refused (before the run, by `vvtui endpoints check` or the
        # config; or during it, by a 4xx) that the reference serves. Those probes are not
        # measured here.
        lacks = set(filter(None, self.info.labels.get("lacks", "").split(",")))
        if self._score is not None:
            lacks |= set(self._score.gaps)
        if lacks:
            parts.append("no " + "/".join(sorted(lacks)))
        # Labels and router names come from config and servers: scrub them like any shown text.
        return shown(" · ".join(parts))

    def _inner_width(self) -> int:
        return max(8, self.size.width - 4)

    # ------------------------------------------------------------------ updates

    def show(self, doc: Doc | LiveText | None, placeholder: str = "") -> None:
        self.answer.show(doc, placeholder)

    def sync(self) -> bool:
        return self.answer.sync()

    def set_upstream(self, upstream: str | None) -> None:
        if upstream != self._upstream:
            self._upstream = upstream
            self._render_header()

    def set_status(self, status: SlotStatus, note: str = "") -> None:
        """Header status for the answer shown: its state ("● streaming 12 tok", "✗ error: http:
        503 ..."), or once it is done, `note` (its mark, e.g. "≠ at token 3")."""
        key = (status.state, status.detail, note)
        if key == self._status_key:
            return
        now = time.monotonic()
        old = self._status_key
        if (
            old is not None
            and status.state == "streaming"
            and old[0] == "streaming"
            and old[2] == note
            and now - self._status_at < STREAMING_STATUS_S
        ):
            # Only the token count moved: a header repaint per pane per frame was a third of
            # each frame with 16 streams, for a number nobody reads 15 times a second.
            return
        self._status_at = now
        self._status_key = key
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
                content = Content.assemble(content, " ", Content.from_markup(note))
        self._status = content
        self._render_header()
        self.set_class(status.state == "error", "-error")

    def _render_header(self) -> None:
        line = header_line(self._model_line(), self._status, self._inner_width())
        self.query_one("#header", Static).update(line, layout=False)

    def set_stats(
        self,
        score: EndpointScore | None,
        history: list[float],
        trouble: tuple[str, bool] | None = None,
        decision: Sequence[str] = (),
    ) -> None:
        """The run so far; `trouble` is what went wrong (RunModel.trouble): failures with their
        counts, and whether the endpoint is down; `decision` the --until-decided notes, longest
        first."""
        gaps = None if self._score is None else self._score.gaps
        self._score = score
        if decision:
            self._decision = tuple(decision)
        if score is not None:
            self._stats = PaneStats(score.ttft_p50, score.tps_p50, score.cost_usd, tuple(history))
            if score.gaps != gaps:
                self._render_header()
        self._trouble = trouble
        self._render_stats()

    def on_resize(self) -> None:
        self._render_header()
        self._render_stats()

    def _render_stats(self) -> None:
        stats = self._stats
        width = self._inner_width()
        ttft, tps = fmt.millis(stats.ttft_p50), fmt.rate(stats.tps_p50)
        cost = fmt.cost(stats.cost_usd)
        line = f"TTFT {ttft} · {tps} tok/s · {cost}"
        if len(line) > width:
            line = f"{ttft.replace(' ', '')} {tps}t/s {cost}"
        content = Content(line)
        if self._trouble is not None:
            text, down = self._trouble
            if down:
                # Down says it all: the numbers of a host that stopped answering are stale.
                content = Content.styled(fmt.truncate(f"⏻ {text}", width), "b $error")
            else:
                room = width - len(line) - 3
                failures = f"✗ {text}"
                if room >= 12:
                    content = Content.assemble(
                        line, " · ", (fmt.truncate(failures, room), "$error")
                    )
                else:
                    content = Content.styled(fmt.truncate(failures, width), "$error")
        self._set_line("#stats", content)
        self._set_line("#trend", self._fidelity_line(width))
        if self.info.conformance:
            row = self.query_one("#conformance", Static)
            if not row.display:
                row.display = True  # the checks arrived after the pane was built
            self._set_line("#conformance", self._conformance_line(width))
        if self._until_decided:
            # The longest form that fits: the note comes shorter for narrow panes.
            note = next((n for n in self._decision if len(n) <= width), "")
            if not note and self._decision:
                # With an ellipsis: a cost cut short must not read as a smaller one.
                note = fmt.truncate(self._decision[-1], width)
            self._set_line("#decision", Content.styled(note, "dim"))

    def _conformance_line(self, width: int) -> Content:
        """The conformance checks: how many passed, or which failed and why (the first reason,
        as far as it fits)."""
        entry = self._score.conformance if self._score is not None else {}
        if not entry:
            entry = self.info.conformance
        failed = list(entry.get("failed") or [])
        if failed:
            reasons = self._score.verdict_reasons if self._score is not None else []
            text = "✗ conformance: " + (reasons[0] if reasons else ", ".join(failed))
            return Content.styled(fmt.truncate(shown(text), width), "$vv-mark-fail")
        text = f"conformance {summary_line(entry)}"
        return Content.styled(fmt.truncate(text, width), "dim")

    def _set_line(self, selector: str, content: Content) -> None:
        """Update one footer line, unless it would read the same (a repaint costs)."""
        key = (content.plain, tuple(content.spans))
        if self._lines.get(selector) != key:
            self._lines[selector] = key
            self.query_one(selector, Static).update(content, layout=False)

    def _fidelity_line(self, width: int) -> Content:
        """Fidelity with its interval, the verdict, then the trend in the room that is left.
        When room is short the trend goes first, then the verdict's word (its glyph and colour
        stay)."""
        score = self._score
        style = "$vv-mark-pass"
        if score is not None:
            style = VERDICT_STYLES.get(score.verdict, style)
        for reserve in (SPARK_MIN + 1, 0):
            head = self._subtitle(score, style, width - reserve)
            room = width - head.cell_length - 1
            if room >= SPARK_MIN or reserve == 0:
                break
        reasons = [] if score is None else score.verdict_reasons
        if reasons and room > 1:
            # What capped the verdict matters more than the trend: it takes the trend's room.
            text = fmt.truncate("· " + "; ".join(reasons), room)
            return Content.assemble(head, " ", (text, style))
        spark = fmt.sparkline(self._stats.history, room) if room >= SPARK_MIN else ""
        if score is not None and score.verdict == NO_ANSWERS:
            spark = ""  # the live scores of errors alone: a trend of nothing measured
        return Content.assemble(head, " ", (spark, style))

    @staticmethod
    def _subtitle(score: EndpointScore | None, style: str, room: int) -> Content:
        """Fidelity, interval and verdict, shortened to fit the border."""
        if score is not None and score.verdict == NO_ANSWERS:
            look = VERDICTS[NO_ANSWERS]
            return Content.styled(f"{look.glyph} {NO_ANSWERS}", f"b {look.style}")
        if score is None or (score.fidelity is None and score.verdict != "reference"):
            return Content.styled("fidelity –", "dim")
        glyph = fmt.VERDICT_GLYPHS.get(score.verdict, "")
        if score.verdict == "reference":
            return Content.styled(f"{glyph} reference", f"b {style}")
        value = fmt.fidelity(score)
        verdict = score.verdict
        for candidate in (f"{glyph} {verdict}", verdict, verdict[:7] + "."):
            if len(value) + 1 + len(candidate) <= room:
                return Content.assemble(f"{value} ", (candidate, f"b {style}"))
        return Content.assemble(f"{value} ", (glyph, f"b {style}"))
