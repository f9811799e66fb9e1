"""What a pane shows, as plain data: a text with style runs and the first-divergence mark.

Two kinds of documents feed the same renderer. `LiveText` grows while an answer streams (appends
are O(token): chunks are queued and joined once per frame). `build_result_doc` turns a finished
answer and its comparison with the reference (from the Scorer: this module computes no metric,
it only paints the Scorer's alignment spans) into a fixed document.
"""

from __future__ import annotations

import itertools
import json
import os

from vvtui.clients.events import ClientEvent, Failed, ReasoningDelta, Retrying, TextDelta
from vvtui.clients.events import ToolCallDelta as ToolCallDeltaEvent
from vvtui.model import ErrorInfo, Result
from vvtui.redact import redact
from vvtui.scoring.compare import ProbeComparison
from vvtui.untrusted import neutralise, shown

# Style classes a document uses; the pane maps each to a component class (themable).
STYLE_CLASSES = ("replace", "insert", "missing", "tool", "error", "muted")
# A reference block the candidate left out is shown inline, struck through, up to this length.
MISSING_SHOWN = 32
TOOL_GLYPH = "⚙"
ERROR_GLYPH = "⚠"

Run = tuple[int, int, str]

_generations = itertools.count(1)


def next_generation() -> int:
    """A number no document has used: renderers key their line caches on it."""
    return next(_generations)


def add_run(runs: list[Run], start: int, end: int, cls: str) -> None:
    """Append a style run, merging it into the previous one when they touch and match."""
    if end <= start:
        return
    if runs and runs[-1][1] == start and runs[-1][2] == cls:
        runs[-1] = (runs[-1][0], end, cls)
    else:
        runs.append((start, end, cls))


class Doc:
    """A fixed document: `text`, sorted non-overlapping `runs`, `mark` (the character where the
    answer first departs from the reference, or None)."""

    __slots__ = ("generation", "mark", "runs", "text")

    def __init__(self, text: str = "", runs: list[Run] | None = None, mark: int | None = None):
        self.text = text
        self.runs = runs or []
        self.mark = mark
        self.generation = next_generation()

    def flush(self) -> str:
        return self.text


class LiveText:
    """An answer while it streams: the display text (answer, then tool calls as they arrive) and
    what the pane's header shows about the request."""

    __slots__ = (
        "_answer",
        "_answer_pending",
        "_pending",
        "_raw",
        "_text",
        "_tool_open",
        "checked",
        "failed",
        "generation",
        "length",
        "mark",
        "reasoning_chars",
        "retry",
        "runs",
        "tokens",
        "version",
    )

    def __init__(self) -> None:
        self._raw = ""
        self._text = ""
        self._pending: list[str] = []
        self._answer = ""
        self._answer_pending: list[str] = []
        self._tool_open: int | None = None
        self.length = 0
        self.runs: list[Run] = []
        self.tokens = 0
        self.reasoning_chars = 0
        self.retry: str | None = None
        self.failed: ErrorInfo | None = None
        # Bumped on every change; renderers compare it with what they last drew.
        self.version = 0
        # Bumped when runs or the mark change (not on plain appends).
        self.generation = next_generation()
        # Live first divergence against the reference's text so far (display only: replaced by
        # the Scorer's alignment when the answer is complete).
        self.checked = 0
        self.mark: int | None = None

    @property
    def text(self) -> str:
        return self.flush()

    def flush(self) -> str:
        """The text to draw: what arrived so far, scrubbed of secrets. Deltas reach the screen
        before the finished result is scrubbed (an endpoint may echo a key back), so the whole
        text is redacted here, once per frame that brought new text, in C-speed string scans;
        a key split across deltas is caught once its last piece arrives."""
        if self._pending:
            self._raw += "".join(self._pending)
            self._pending.clear()
            scrubbed = redact(self._raw)
            if not scrubbed.startswith(self._text):
                # Something already drawn changed (a key completed): redraw from scratch.
                self.generation = next_generation()
            self._text = scrubbed
        return self._text

    def answer(self) -> str:
        if self._answer_pending:
            self._answer += "".join(self._answer_pending)
            self._answer_pending.clear()
        return self._answer

    def _append(self, text: str, cls: str | None = None) -> None:
        if not text:
            return
        start = self.length
        self._pending.append(text)
        # Style runs index the raw text; after a (rare) redaction they may be off by the
        # difference in length, never showing what was redacted.
        self.length += len(text)
        if cls is not None:
            add_run(self.runs, start, self.length, cls)
            self.generation = next_generation()

    def feed(self, event: ClientEvent) -> None:
        """One client event (O(size of the event))."""
        if isinstance(event, TextDelta):
            if self._tool_open is not None:
                # Text after a tool call (rare): keep it on its own line.
                self._append(")\n", "tool")
                self._tool_open = None
            self._append(neutralise(event.text))
            self._answer_pending.append(event.text)
            # A joined run of deltas from the runner process says how many tokens it holds.
            self.tokens += len(event.tokens) if event.tokens else getattr(event, "count", 1)
            self.retry = None
        elif isinstance(event, ToolCallDeltaEvent):
            if event.index != self._tool_open:
                if self._tool_open is not None:
                    self._append(")", "tool")
                lead = "\n" if self.length else ""
                name = neutralise(event.name or "tool")
                self._append(f"{lead}{TOOL_GLYPH} {name}(", "tool")
                self._tool_open = event.index
            self._append(neutralise(event.arguments), "tool")
            self.tokens += 1
        elif isinstance(event, ReasoningDelta):
            self.reasoning_chars += len(event.text)
        elif isinstance(event, Retrying):
            self.retry = f"retry {event.attempt} in {event.delay_s:.1f}s: {shown(event.reason)}"
        elif isinstance(event, Failed):
            self.failed = event.error
        self.version += 1

    def compare_with(self, reference: str) -> None:
        """Advance the live divergence mark against the reference's text so far. Only the
        characters that arrived since the last call are compared."""
        if self.mark is not None:
            return
        answer = self.answer()
        limit = min(len(answer), len(reference))
        if limit <= self.checked:
            return
        # commonprefix of two strings runs in C; only the newly arrived span is compared.
        new, ref = answer[self.checked : limit], reference[self.checked : limit]
        same = len(os.path.commonprefix([new, ref]))  # noqa: RUF071
        self.checked += same
        if self.checked < limit:
            self.mark = self.checked
            self.generation = next_generation()
            self.version += 1


def _format_arguments(arguments: object) -> str:
    if isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(arguments, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        return str(arguments)


def _char_classes(text: str, comparison: ProbeComparison) -> tuple[list[str | None], list]:
    """Per character of the candidate's text: None (agrees) or the class of its block; plus the
    reference text missing at each position. Non-equal blocks are painted after equal ones: two
    neighbouring blocks can share a character when a token ends mid-character."""
    classes: list[str | None] = [None] * len(text)
    missing: list[tuple[int, int, int]] = []
    spans = comparison.spans
    for span in spans:
        if span.tag == "delete":
            missing.append((span.cand_start, span.ref_start, span.ref_end))
    for span in spans:
        if span.tag in ("replace", "insert"):
            for i in range(max(0, span.cand_start), min(len(text), span.cand_end)):
                classes[i] = span.tag
    return classes, missing


def build_result_doc(
    result: Result, comparison: ProbeComparison | None, *, diff: bool = True
) -> Doc:
    """The finished answer, with disagreement painted from `comparison` when `diff` is on:
    replaced and inserted tokens highlighted, reference text the candidate left out shown struck
    through, the first divergence marked."""
    text = result.text
    out: list[str] = []
    runs: list[Run] = []
    pos = 0

    def emit(chunk: str, cls: str | None) -> None:
        nonlocal pos
        if not chunk:
            return
        # Control characters drawn as \xNN: a pane is a terminal, and so is a screenshot's source.
        chunk = neutralise(chunk)
        out.append(chunk)
        if cls is not None:
            add_run(runs, pos, pos + len(chunk), cls)
        pos += len(chunk)

    mark: int | None = None
    painted = diff and comparison is not None and comparison.ref_tokens is not None
    if painted and comparison is not None:
        if comparison.cand_tokens is not None:
            text = comparison.cand_tokens.text  # the text the spans index into
        classes, missing = _char_classes(text, comparison)
        fdc = comparison.first_divergence_char
        first_char = None if fdc is None else fdc[1]
        missing_at: dict[int, list[tuple[int, int]]] = {}
        for at, rs, re_ in missing:
            missing_at.setdefault(at, []).append((rs, re_))
        ref = comparison.ref_tokens.text if comparison.ref_tokens is not None else ""
        i = 0
        n = len(text)
        while i <= n:
            for rs, re_ in missing_at.get(i, ()):
                chunk = ref[rs:re_]
                if len(chunk) > MISSING_SHOWN:
                    chunk = chunk[: MISSING_SHOWN - 1] + "…"
                if first_char == i and mark is None:
                    mark = pos
                emit(chunk, "missing")
            if i == n:
                break
            j = i + 1
            while j < n and classes[j] == classes[i] and j not in missing_at:
                j += 1
            if first_char is not None and mark is None and i <= first_char < j:
                mark = pos + len(neutralise(text[i:first_char]))
            emit(text[i:j], classes[i])
            i = j
        if first_char is not None and mark is None:
            mark = max(0, pos - 1) if pos else None
    else:
        emit(text, None)

    tool_cls = "tool"
    if painted and comparison is not None and comparison.tool_match not in (None, "same"):
        tool_cls = "replace"
    for call in result.tool_calls:
        lead = "\n" if pos else ""
        emit(f"{lead}{TOOL_GLYPH} {call.name}({_format_arguments(call.arguments)})", tool_cls)
    if result.error is not None:
        lead = "\n" if pos else ""
        emit(f"{lead}{ERROR_GLYPH} {result.error.kind}: {shown(result.error.message)}", "error")
    elif result.truncated:
        emit(("\n" if pos else "") + "[answer cut short]", "muted")
    return Doc("".join(out), runs, mark)
