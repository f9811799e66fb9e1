"""`i`: one probe × endpoint taken apart against the reference — both answers side by side, the
two distributions at the first divergence, KL along the shared prefix, every check, the tool
calls and the damage parts.

Every number comes from `RunModel.inspection` (the scoring core's `inspect_comparison`); this
module only lays them out. It redraws when the answer or its scores change, so it follows a live
run and reads a saved one alike; `n`/`p` step probes and the digits switch endpoint in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from vvtui.model import PENDING, ToolCall
from vvtui.present.styles import MARKS
from vvtui.redact import redact
from vvtui.scoring import damage as dmg
from vvtui.scoring.inspect import (
    PART_MEANINGS,
    Alternative,
    DamageBreakdown,
    DivergencePoint,
    Inspection,
)
from vvtui.tui import format as fmt
from vvtui.tui.document import Doc, build_result_doc
from vvtui.tui.keymap import pane_digit_bindings
from vvtui.tui.widgets.answer import AnswerView

if TYPE_CHECKING:
    from vvtui.scoring.compare import ProbeComparison
    from vvtui.tui.state import RunModel

# How often the screen looks for a changed answer or score (a live run).
REFRESH_S = 0.5
# The answers take at most this share of the screen's height.
ANSWERS_SHARE = 0.4
# A mark's colour, from the one style table (vvtui.present.styles).
MARK_STYLES = {name: look.style for name, look in MARKS.items()}
TOOL_MATCH_TEXT = {
    "same": "same calls",
    "trigger_differs": "one side called a tool, the other did not",
    "name_differs": "different functions called",
    "invalid_arguments": "arguments invalid where the reference's are valid",
    "arguments_differ": "same functions, different arguments",
}


def alternatives_chart(
    title: str, alts: list[Alternative], other: str | None, other_name: str, width: int
) -> list[Content]:
    """A side's top-k at one position as bars: ◀ marks the token it emitted, `other_name` the
    token the other side emitted there."""
    lines = [Content.styled(fmt.truncate(title, width), "b")]
    if not alts:
        lines.append(Content.styled("no alternatives sent", "dim"))
        return lines
    tok_w = 14
    # Bars on an absolute scale (a full bar is probability 1), so both sides read alike.
    bar_w = max(4, min(20, width - tok_w - 16))
    for alt in alts:
        style = "b $accent" if alt.chosen else ("$vv-mark-diverged" if alt.token == other else "")
        tag = "◀" if alt.chosen else (f"← {other_name}" if alt.token == other else "")
        lines.append(
            Content.assemble(
                (fmt.token(alt.token, tok_w).ljust(tok_w), style),
                f" {alt.prob:5.3f} ",
                # The tag right after the bar, where the eye already is.
                (fmt.bar(alt.prob, bar_w).rstrip(), style or "$text-muted"),
                " ",
                (fmt.truncate(tag, max(0, width - tok_w - bar_w - 8)), style),
            )
        )
    return lines


def side_by_side(left: list[Content], right: list[Content], width: int) -> Content:
    """Two columns of lines, the left one padded to `width` cells."""
    rows = []
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else Content("")
        b = right[i] if i < len(right) else Content("")
        a = a.truncate(width, ellipsis=True)
        b = b.truncate(width, ellipsis=True)
        rows.append(Content.assemble(a, " " * (width - a.cell_length + 2), b))
    return Content("\n").join(rows)


def divergence_section(ins: Inspection, ref_name: str, width: int) -> Content:
    point = ins.divergence
    if point is None:
        if ins.first_divergence is None and ins.agreement is not None:
            return Content.styled(
                "The text has the same tokens as the reference's: no divergence.", "$vv-mark-pass"
            )
        return Content.styled("No token alignment for this answer.", "dim")
    head = Content.assemble(
        ("First divergence", "b"),
        f" at token {point.position}: {ref_name} ",
        (fmt.token(point.ref_token, 24), "b"),
        f", {ins.endpoint} ",
        (fmt.token(point.cand_token, 24), "b $vv-mark-diverged"),
    )
    parts = [head]
    if point.ref_alternatives or point.cand_alternatives:
        col = max(24, (width - 2) // 2)
        left = alternatives_chart(
            f"{ref_name}'s top {len(point.ref_alternatives)}",
            point.ref_alternatives,
            point.cand_token,
            ins.endpoint,
            col,
        )
        right = alternatives_chart(
            f"{ins.endpoint}'s top {len(point.cand_alternatives)}",
            point.cand_alternatives,
            point.ref_token,
            ref_name,
            col,
        )
        parts.append(side_by_side(left, right, col))
    if ins.sampled:
        parts.append(
            Content.styled(
                "A sampled probe: its answers are compared as distributions (the mmd part "
                "below), so where one sample parts from another is not counted.",
                "$text-muted",
            )
        )
    else:
        parts.append(_margin_line(point, ins, ref_name))
    if point.kl is not None:
        parts.append(Content(f"KL there: {fmt.kl(point.kl)} nats"))
    return Content("\n").join(parts)


def _margin_line(point: DivergencePoint, ins: Inspection, ref_name: str) -> Content:
    limit = f"{dmg.TIE_MARGIN:g}"
    if point.margin is None:
        why = (
            f"{ins.endpoint}'s token is not among {ref_name}'s alternatives"
            if point.ref_alternatives
            else "no logprobs on both sides"
        )
        return Content.assemble(
            ("Margin ", "b"), f"not defined ({why}): ", ("counted", "b $vv-mark-fail")
        )
    if point.near_tie:
        verdict = (
            f"< {limit}: a near-tie, not counted (tokens and checks parts left out)",
            "b $vv-mark-pass",
        )
    else:
        verdict = (f"≥ {limit}: counted", "b $vv-mark-fail")
    under = point.cand_token_under_ref
    odds = "" if under is None else f" (p={under:.3f} for {ins.endpoint}'s token)"
    return Content.assemble(
        ("Margin ", "b"), f"{point.margin:.3f} nats{odds} ", (verdict[0], verdict[1])
    )


def kl_section(ins: Inspection, width: int) -> Content:
    values = [v for v in ins.kl_positions if v is not None]
    if not ins.kl_positions:
        return Content.assemble(("KL per position", "b"), ("  not measured (no logprobs)", "dim"))
    if not values:
        return Content.assemble(("KL per position", "b"), ("  no usable positions", "dim"))
    top = max(values)
    peak = ins.kl_positions.index(top)
    shown = [0.0 if v is None else v for v in ins.kl_positions]
    spark = fmt.sparkline(shown, max(8, width - 4), 0.0, top or 1.0)
    summary = (
        f"  {len(values)} positions · mean {fmt.kl(ins.kl_mean)} · max {fmt.kl(top)} "
        f"at token {peak} · top-1 agreement {fmt.percent(ins.top1)}"
    )
    return Content.assemble(
        ("KL per position", "b"), (summary, "$text-muted"), "\n", (spark, "$accent")
    )


def checks_section(ins: Inspection, ref_name: str, width: int) -> Content:
    if not ins.checks:
        return Content.assemble(("Checks", "b"), ("  none on this probe", "dim"))
    lines = [Content.styled("Checks", "b")]
    for row in ins.checks:
        lines.append(Content.styled(row.type + ("  (verdicts differ)" if row.differs else ""), "b"))
        for name, outcome in ((ref_name, row.reference), (ins.endpoint, row.candidate)):
            if outcome is None:
                lines.append(Content.styled(f"  · {name}: not checked", "dim"))
                continue
            glyph, style = ("✓", "$vv-mark-pass") if outcome.passed else ("✗", "$vv-mark-fail")
            detail = outcome.detail or ("passed" if outcome.passed else "failed")
            detail = fmt.truncate(redact(detail), max(8, width - len(name) - 8))
            lines.append(Content.assemble("  ", (glyph, f"b {style}"), f" {name}: {detail}"))
    return Content("\n").join(lines)


def _call_text(call: ToolCall) -> str:
    return f"⚙ {call.name}({redact(call.arguments)})"


def tools_section(ins: Inspection, ref_name: str, width: int) -> Content | None:
    if not ins.ref_tool_calls and not ins.cand_tool_calls and ins.tool_match is None:
        return None
    col = max(24, (width - 2) // 2)
    left = [Content.styled(ref_name, "b")] + [
        Content(fmt.truncate(_call_text(c), col)) for c in ins.ref_tool_calls
    ]
    right = [Content.styled(ins.endpoint, "b")] + [
        Content(fmt.truncate(_call_text(c), col)) for c in ins.cand_tool_calls
    ]
    if not ins.ref_tool_calls:
        left.append(Content.styled("no tool call", "dim"))
    if not ins.cand_tool_calls:
        right.append(Content.styled("no tool call", "dim"))
    verdict = TOOL_MATCH_TEXT.get(ins.tool_match or "", ins.tool_match or "")
    style = "$vv-mark-pass" if ins.tool_match == "same" else "$vv-mark-fail"
    head = Content.assemble(("Tool calls", "b"), "  ", (verdict, style))
    return Content("\n").join([head, side_by_side(left, right, col)])


def damage_section(breakdown: DamageBreakdown, width: int) -> Content:
    lines = [
        Content.assemble(
            ("Damage", "b"), ("  parts combined as 1 − Π(1 − part) (noisy-OR)", "$text-muted")
        )
    ]
    bar_w = 12
    name_w = max((len(name) for name, _ in breakdown.parts), default=8)
    for name, value in breakdown.parts:
        meaning = PART_MEANINGS.get(name, "")
        if value is None:
            lines.append(
                Content.assemble(
                    f"  {name:<{name_w}} ",
                    ("not measured".ljust(bar_w + 6), "dim"),
                    f"  {meaning}",
                )
            )
            continue
        style = "$vv-mark-fail" if value >= 0.5 else ("$vv-mark-diverged" if value else "dim")
        lines.append(
            Content.assemble(
                f"  {name:<{name_w}} {value:5.3f} ",
                (fmt.bar(value, bar_w), style),
                ("  " + fmt.truncate(meaning, max(0, width - bar_w - 20)), "$text-muted"),
            )
        )
    measured = breakdown.measured
    if breakdown.combined is not None and measured:
        terms = "".join(f"(1−{v:.3f})" for _, v in measured if v)
        formula = f"1 − {terms}" if terms else "nothing measured above 0"
        lines.append(
            Content.assemble(
                "  = ",
                fmt.truncate(formula, max(10, width - 20)),
                " = ",
                (f"{breakdown.combined:.3f}", "b"),
            )
        )
    if breakdown.probe_damage is not None:
        samples = "" if breakdown.samples <= 1 else f" ({breakdown.samples} samples)"
        floor = breakdown.noise_floor or 0.0
        lines.append(
            Content.assemble(
                "  probe damage ",
                (f"{breakdown.probe_damage:.3f}", "b"),
                samples,
                f" − reference noise floor {floor:.3f} = ",
                (f"{breakdown.excess or 0.0:.3f}", "b"),
                " counted against fidelity",
            )
        )
    return Content("\n").join(lines)


class InspectorScreen(Screen[None]):
    BINDINGS: ClassVar = [
        Binding("escape,i", "close", "Back", id="inspect-close", tooltip="Back to the panes"),
        Binding("n", "step(1)", "Next", id="inspect-next", tooltip="Next probe"),
        Binding("p", "step(-1)", "Prev", id="inspect-prev", tooltip="Previous probe"),
        Binding("d", "toggle_diff", "Diff", id="inspect-diff", tooltip="Toggle highlights"),
        *pane_digit_bindings("pick", "Endpoint", "inspect", "Inspect that pane's answer"),
    ]

    DEFAULT_CSS = """
    InspectorScreen { layout: vertical; }
    InspectorScreen #ins-title { height: 1; padding: 0 1; background: $panel; }
    InspectorScreen #ins-prompt { height: 1; padding: 0 1; color: $text-muted; }
    InspectorScreen #ins-answers { height: 8; }
    InspectorScreen .ins-side {
        width: 1fr; border: round $foreground 22%; background: $surface;
    }
    InspectorScreen .ins-side.-reference { border: round $primary 60%; }
    InspectorScreen #ins-details { height: 1fr; padding: 0 1; }
    InspectorScreen #ins-details > Static { margin-bottom: 1; }
    """

    def __init__(self, model: RunModel, endpoint: str, probe_id: str, sample: int = 0) -> None:
        super().__init__()
        self.model = model
        self.endpoint = endpoint
        self.probe_id = probe_id
        self.sample = sample
        self.diff = True
        self._shown: tuple[object, ...] = ()
        self._inspection: Inspection | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="ins-title")
        yield Static(id="ins-prompt")
        with Horizontal(id="ins-answers"):
            with Vertical(classes="ins-side -reference", id="ins-ref"):
                yield AnswerView(id="ins-ref-answer")
            with Vertical(classes="ins-side", id="ins-cand"):
                yield AnswerView(id="ins-cand-answer")
        with VerticalScroll(id="ins-details"):
            yield Static(id="ins-divergence")
            yield Static(id="ins-kl")
            yield Static(id="ins-checks")
            yield Static(id="ins-tools")
            yield Static(id="ins-damage")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view(force=True)
        self.set_interval(REFRESH_S, self.refresh_view, name="inspector-refresh")

    def on_resize(self) -> None:
        self.refresh_view(force=True)

    @property
    def inspection(self) -> Inspection | None:
        return self._inspection

    # ------------------------------------------------------------------ drawing

    def refresh_view(self, force: bool = False) -> None:
        model = self.model
        slot = (self.endpoint, self.probe_id, self.sample)
        ref_slot = (model.reference, self.probe_id, self.sample)
        comparison = model.comparison(*slot)
        key = (
            slot,
            id(model.results.get(slot)),
            id(model.results.get(ref_slot)),
            id(comparison),
            id(model.final),
            self.diff,
        )
        if key == self._shown and not force:
            return
        self._shown = key
        self._inspection = model.inspection(*slot)
        self._draw_title()
        self._draw_answers(comparison)
        self._draw_details()

    def _draw_title(self) -> None:
        model = self.model
        probe = model.probe_by_id[self.probe_id]
        index = model.probe_ids.index(self.probe_id) + 1
        ins = self._inspection
        mark = ins.mark if ins is not None else PENDING
        glyph = fmt.MARK_GLYPHS.get(mark, "")
        note = f"{glyph} {mark}"
        if ins is not None and mark == "diverged" and ins.first_divergence is not None:
            note = f"{glyph} at token {ins.first_divergence}"
        self.query_one("#ins-title", Static).update(
            Content.assemble(
                ("inspect ", "b $primary"),
                (self.endpoint, "b"),
                " vs ",
                (f"{model.reference} ★", "b"),
                f"   probe {index}/{len(model.probe_ids)} ",
                (self.probe_id, "b"),
                (f" · {probe.kind}", "dim"),
                "   ",
                (note, f"b {MARK_STYLES.get(mark, 'dim')}"),
            )
        )
        self.query_one("#ins-prompt", Static).update(
            Content(f"› {fmt.truncate(fmt.prompt_line(probe), 400)}")
        )

    def _draw_answers(self, comparison: ProbeComparison | None) -> None:
        model = self.model
        ref = model.results.get((model.reference, self.probe_id, self.sample))
        cand = model.results.get((self.endpoint, self.probe_id, self.sample))
        ref_view = self.query_one("#ins-ref-answer", AnswerView)
        cand_view = self.query_one("#ins-cand-answer", AnswerView)
        self.query_one("#ins-ref").border_title = f"{model.reference} ★"
        self.query_one("#ins-cand").border_title = self.endpoint
        if ref is None:
            ref_view.show(None, "no answer yet")
        else:
            doc = build_result_doc(ref, None, diff=False)
            fdc = None if comparison is None else comparison.first_divergence_char
            if self.diff and fdc is not None:
                # The same divergence, marked in the reference's text too.
                doc = Doc(doc.text, doc.runs, min(fdc[0], max(0, len(doc.text) - 1)))
            ref_view.show(doc)
        if cand is None:
            ref_is_live = (self.endpoint, self.probe_id, self.sample) in model.streams
            cand_view.show(None, "streaming…" if ref_is_live else "no answer yet")
        else:
            cand_view.show(build_result_doc(cand, comparison, diff=self.diff))
        self._size_answers([ref_view.plain_text, cand_view.plain_text])

    def _size_answers(self, texts: list[str]) -> None:
        """As tall as the longer answer needs, up to ANSWERS_SHARE of the screen: the analysis
        below is what this screen is for."""
        screen = self.size if self.size.height else self.app.size
        width = max(8, screen.width // 2 - 5)
        needed = max(
            sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n")) for text in texts
        )
        cap = max(3, int(screen.height * ANSWERS_SHARE))
        height = min(needed + 2, cap)
        answers = self.query_one("#ins-answers")
        if answers.styles.height is None or answers.styles.height.value != height:
            answers.styles.height = height

    def _draw_details(self) -> None:
        ins = self._inspection
        # Less the details' padding and scrollbar.
        width = max(40, (self.size.width or self.app.size.width) - 5)
        ref_name = self.model.reference
        divergence = self.query_one("#ins-divergence", Static)
        kl = self.query_one("#ins-kl", Static)
        checks = self.query_one("#ins-checks", Static)
        tools = self.query_one("#ins-tools", Static)
        damage = self.query_one("#ins-damage", Static)
        if ins is None:
            what = "the reference's answer" if self.endpoint == ref_name else "this answer"
            divergence.update(Content.styled(f"Waiting for {what} to be scored…", "dim"))
            for widget in (kl, checks, tools, damage):
                widget.display = False
            return
        for widget in (kl, checks, damage):
            widget.display = True
        divergence.update(divergence_section(ins, ref_name, width))
        kl.update(kl_section(ins, width))
        checks.update(checks_section(ins, ref_name, width))
        tool_text = tools_section(ins, ref_name, width)
        tools.display = tool_text is not None
        if tool_text is not None:
            tools.update(tool_text)
        damage.update(damage_section(ins.damage, width))

    # ------------------------------------------------------------------ actions

    def action_close(self) -> None:
        self.dismiss(None)

    def action_step(self, delta: int) -> None:
        ids = self.model.probe_ids
        i = max(0, min(len(ids) - 1, ids.index(self.probe_id) + delta))
        if ids[i] != self.probe_id:
            self.probe_id = ids[i]
            self.sample = 0
            self.refresh_view(force=True)

    def action_toggle_diff(self) -> None:
        self.diff = not self.diff
        self.refresh_view(force=True)

    def action_pick(self, index: int) -> None:
        names = self.model.endpoint_names
        if 0 <= index < len(names):
            self.show_endpoint(names[index])

    def show_endpoint(self, name: str) -> None:
        if name in self.model.endpoint_names and name != self.model.reference:
            self.endpoint = name
            self.refresh_view(force=True)
