"""What both wire protocols share once bytes have become SSE events or a JSON body.

A `StreamParser` is a pure state machine: protocol subclasses turn each event into client
events; the base keeps what only makes sense at the end (usage: the latest report wins; the
finish reason and server extras; flags) and `close()` turns the way the stream ended into the
closing events: Usage, Flags, then exactly one Finish or Failed.

Malformed-chunk policy: a data event that is not valid JSON (or not the expected shape), and a
line that is not an SSE field, is counted and skipped, not fatal. If the stream still ends
properly (a finish reason, `[DONE]` or `message_stop`) and such chunks are rare (at most
`max(2, events // 10)`), the answer stands with a `malformed_chunks` flag. More than that, or a
stream that never ends properly, is `Failed(kind="protocol")`.

Model-mismatch rule (see `same_model`): case-insensitive, organisation prefixes (`org/`),
`.gguf`, and OpenRouter/Ollama variant tags (`:nitro`, `:latest`...) are ignored, and the
answered name may add a date or version suffix (`gpt-4o` → `gpt-4o-2024-08-06`,
`kimi-k2` → `kimi-k2-0905`); anything else (`-instruct`, a different size) is a mismatch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

from vvtui.clients.events import (
    ClientEvent,
    Failed,
    Finish,
    Flag,
    Meta,
    ReasoningDelta,
    TextDelta,
    TokenLogprob,
    ToolCallDelta,
    Usage,
)
from vvtui.clients.failures import make_error
from vvtui.model import ErrorInfo

# What "not in the top 20" looks like in OpenAI-style logprobs; also stands in for -inf/NaN so
# that snapshots stay valid JSON and exp() stays 0 instead of breaking sums.
LOGPROB_FLOOR = -9999.0
# How a response body ended, as the client saw it (StreamParser.close): the body ended, no bytes
# for stall_timeout_s, no end within request_timeout_s, the connection broke, we stopped reading
# at max_output_bytes, or the transport said the bytes were malformed.
StreamEnd = Literal["eof", "stall", "timeout", "dropped", "capped", "protocol"]

_VARIANT_TAG = re.compile(r":(nitro|floor|exacto|free|beta|extended|thinking|online|latest)$")
_VERSION_SUFFIX = re.compile(
    r"^[-_.:@](\d{2,8}([-_.]\d{1,4}){0,2}|v\d+(\.\d+)*|latest|\d{2,4}-\d{2}-\d{2})$"
)


def _normalise_model(name: str) -> str:
    name = name.strip().lower()
    name = name.rstrip("/").rsplit("/", 1)[-1]
    if name.endswith(".gguf"):
        name = name[:-5]
    while True:
        stripped = _VARIANT_TAG.sub("", name)
        if stripped == name:
            return name
        name = stripped


def same_model(asked: str, answered: str) -> bool:
    """Whether `answered` plausibly names the model that was `asked` for (see module doc)."""
    a, b = _normalise_model(asked), _normalise_model(answered)
    if not a or not b or a == b:
        return True
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer.startswith(shorter) and bool(_VERSION_SUFFIX.match(longer[len(shorter) :]))


def as_float(value: Any) -> float | None:
    if type(value) is float and value - value == 0.0:
        return value  # the usual case, a finite float: one check (this runs ~6 times a token)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return LOGPROB_FLOOR if value < 0 else None
    return value


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_text(value: Any) -> str:
    """Content as text: strings as they are, lists of parts joined, anything else empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            p["text"] for p in value if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def _byte_values(raw: Any) -> list[int] | None:
    """`raw` when it is a list of byte values (ints 0-255, not booleans), else None."""
    if not isinstance(raw, list):
        return None
    # Two C-level passes instead of a Python test per byte: every element exactly an int, and
    # bytes() accepts them (it raises for anything outside 0-255).
    if raw and set(map(type, raw)) != {int}:
        return None
    try:
        bytes(raw)
    except ValueError:
        return None
    return raw


def parse_token(entry: Any) -> TokenLogprob | None:
    """One `logprobs.content[]` entry; tolerant of null bytes, missing alternatives, odd types.
    Strings are not interned here: the accumulator interns what it keeps."""
    if not isinstance(entry, dict):
        return None
    token = entry.get("token")
    if not isinstance(token, str):
        token = "" if token is None else str(token)
    top = None
    raw_top = entry.get("top_logprobs")
    if isinstance(raw_top, list):
        top = []
        for alt in raw_top:
            if isinstance(alt, dict):
                alt_token = alt.get("token")
                alt_lp = alt.get("logprob")
                # as_float's usual case inline (a finite float): this runs ~5-20 times a token.
                if type(alt_lp) is not float or alt_lp - alt_lp != 0.0:
                    alt_lp = as_float(alt_lp)
                if alt_lp is not None and isinstance(alt_token, str):
                    top.append((alt_token, alt_lp))
    return TokenLogprob(
        token=token,
        logprob=as_float(entry.get("logprob")),
        bytes=_byte_values(entry.get("bytes")),
        top=top,
    )


def parse_tokens(logprobs: Any) -> list[TokenLogprob] | None:
    if not isinstance(logprobs, dict):
        return None
    content = logprobs.get("content")
    if not isinstance(content, list):
        return None
    # A plain loop: a generator inside a comprehension cost more than the one entry it parses.
    tokens: list[TokenLogprob] = []
    for entry in content:
        token = parse_token(entry)
        if token is not None:
            tokens.append(token)
    return tokens or None


class StreamParser:
    """Shared state; subclasses implement `feed_event` and `feed_completion`."""

    # The name of the event that ends a stream properly, for messages.
    TERMINAL = "[DONE]"

    def __init__(self, *, model_asked: str, max_output_bytes: int) -> None:
        self.model_asked = model_asked
        self.max_output_bytes = max_output_bytes
        self.data_events = 0
        self.malformed = 0
        self.output_bytes = 0
        self.got_output = False
        self.capped = False
        self.terminal = False
        self.error: ErrorInfo | None = None
        self.finish_reason: str | None = None
        self.native_reason: str | None = None
        self.finish_extra: dict[str, Any] = {}
        self.usage: dict[str, Any] | None = None
        self.usage_t = 0.0
        self._model: str | None = None
        self._provider: str | None = None
        self._fingerprint: str | None = None
        self._mismatch_seen: set[str] = set()

    # ---- for subclasses

    @property
    def ended(self) -> bool:
        """Nothing after this point can change the answer: stop reading."""
        return self.terminal or self.error is not None or self.capped

    def _malformed(self) -> None:
        self.malformed += 1

    def _meta(
        self,
        t: float,
        out: list[ClientEvent],
        model: Any = None,
        provider: Any = None,
        fingerprint: Any = None,
    ) -> None:
        changed = False
        if isinstance(model, str) and model and model != self._model:
            self._model, changed = model, True
        if isinstance(provider, str) and provider and provider != self._provider:
            self._provider, changed = provider, True
        if isinstance(fingerprint, str) and fingerprint and fingerprint != self._fingerprint:
            self._fingerprint, changed = fingerprint, True
        if not changed:
            return
        out.append(Meta(t, self._model, self._provider, self._fingerprint))
        answered = self._model
        if (
            answered
            and answered not in self._mismatch_seen
            and not same_model(self.model_asked, answered)
        ):
            self._mismatch_seen.add(answered)
            out.append(
                Flag(t, "model_mismatch", f"asked {self.model_asked!r}, answered {answered!r}")
            )

    def _count(self, text: str) -> None:
        if text:
            self.got_output = True
            self.output_bytes += len(text.encode("utf-8", "surrogatepass"))
            if self.output_bytes > self.max_output_bytes:
                self.capped = True

    def _text(
        self, t: float, out: list[ClientEvent], text: str, tokens: list[TokenLogprob] | None
    ) -> None:
        if text or tokens:
            out.append(TextDelta(t, text, tokens))
            self._count(text)

    def _reasoning(self, t: float, out: list[ClientEvent], text: str) -> None:
        if text:
            out.append(ReasoningDelta(t, text))
            self._count(text)

    def _tool(
        self,
        t: float,
        out: list[ClientEvent],
        index: int,
        call_id: str | None,
        name: str | None,
        arguments: str,
    ) -> None:
        if call_id is None and name is None and not arguments:
            return
        out.append(ToolCallDelta(t, index, call_id, name, arguments))
        self.got_output = True
        self._count(arguments or "")

    def _usage(self, t: float, usage: dict[str, Any]) -> None:
        # Cumulative everywhere it repeats (vLLM continuous stats, Anthropic message_delta):
        # the latest report wins, merged so a later partial report keeps earlier fields.
        self.usage = {**(self.usage or {}), **usage}
        self.usage_t = t

    def _usage_event(self) -> Usage:
        raise NotImplementedError

    def _set_error(self, error: ErrorInfo) -> None:
        if self.error is None:
            self.error = error

    # ---- protocol entry points

    def feed_event(self, event: Any, t: float) -> list[ClientEvent]:
        raise NotImplementedError

    def feed_completion(self, obj: Any, t: float) -> list[ClientEvent]:
        raise NotImplementedError

    # ---- the end

    def too_malformed(self) -> bool:
        return self.malformed > max(2, self.data_events // 10)

    def close(
        self, t: float, ending: StreamEnd = "eof", *, invalid_utf8: int = 0, detail: str = ""
    ) -> list[ClientEvent]:
        """Closing events for a stream that ended by `ending`: "eof" (the body ended), "stall"
        (no bytes for stall_timeout_s), "timeout" (no end within request_timeout_s), "dropped"
        (the connection broke) or "capped" (we stopped reading at max_output_bytes)."""
        out: list[ClientEvent] = []
        if ending == "capped":
            self.capped = True
        if self.usage is not None:
            out.append(self._usage_event())
        if self.malformed:
            out.append(
                Flag(t, "malformed_chunks", f"{self.malformed} of {self.data_events} events")
            )
        if invalid_utf8:
            out.append(Flag(t, "invalid_utf8", f"{invalid_utf8} invalid byte sequence(s)"))
        partial = self.got_output
        if self.error is not None:
            out.append(Failed(t, self.error, partial=partial))
            return out
        if self.capped and not partial:
            message = "stopped reading: the body passed its size cap before any answer came"
            out.append(Failed(t, make_error("protocol", message)))
            return out
        if self.capped:
            out.append(
                Flag(t, "output_capped", f"stopped reading after {self.max_output_bytes} bytes")
            )
            extra = {**self.finish_extra, "capped": True}
            out.append(Finish(t, "length", self.native_reason or self.finish_reason, extra))
            return out
        if self.finish_reason == "error":
            # OpenRouter's marker for a failure whose error object went missing.
            error = make_error("api", "stream ended with finish_reason 'error'")
            out.append(Failed(t, error, partial=partial))
            return out
        finished = self.finish_reason is not None
        if not finished and ending in ("stall", "dropped", "timeout"):
            message = (
                detail
                or {
                    "stall": "stream stalled mid-answer",
                    "dropped": "connection dropped",
                    "timeout": "no complete answer in time",
                }[ending]
            )
            out.append(Failed(t, make_error(ending, message), partial=partial))
            return out
        if not finished and not self.terminal:
            tail = f" (after {self.malformed} malformed chunk(s))" if self.malformed else ""
            out.append(
                Failed(
                    t,
                    make_error("protocol", f"stream ended without finish_reason{tail}"),
                    partial=partial,
                )
            )
            return out
        if self.too_malformed():
            out.append(
                Failed(
                    t,
                    make_error(
                        "protocol",
                        f"{self.malformed} of {self.data_events} stream events were malformed",
                    ),
                    partial=partial,
                )
            )
            return out
        if ending in ("stall", "dropped", "timeout"):
            out.append(Flag(t, "incomplete_tail", f"{ending} after the finish reason"))
        if not finished:
            out.append(Flag(t, "no_finish_reason", f"{self.TERMINAL} without a finish reason"))
        out.append(Finish(t, self.finish_reason, self.native_reason, dict(self.finish_extra)))
        return out


DONE = "[DONE]"
# The C scanner json.loads ends in (a decoder sets it in __init__, which typeshed does not say).
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(data: str) -> tuple[bool, Any]:
    """(ok, value). Lenient about one thing: an event whose `data:` lines are each a complete
    JSON chunk (a server that separates chunks with a single newline) parses as `Several`
    chunks; a `[DONE]` line among them stays the string "[DONE]"."""
    try:
        # The scanner under json.loads, called directly: loads() adds type checks and two
        # whitespace matches per chunk; a document it cannot take whole goes the long way.
        obj, end = _scan(data, 0)
        if end == len(data):
            return True, obj
    except (StopIteration, ValueError, RecursionError):
        pass
    try:
        return True, json.loads(data)
    except ValueError:
        pass
    if "\n" in data:
        parts: Several = Several()
        for line in data.split("\n"):
            line = line.strip()
            if not line:
                continue
            if line == DONE:
                parts.append(DONE)
                continue
            try:
                parts.append(json.loads(line))
            except ValueError:
                return False, None
        if parts:
            return True, parts
    return False, None


class Several(list[Any]):
    """Marker: several chunks that arrived in one SSE event."""
