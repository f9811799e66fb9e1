"""Server-sent events from raw bytes, robust to what real servers send.

Bytes → text → lines → events, per the WHATWG event-stream rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
Lines are split only on CR, LF and CRLF: httpx's own `aiter_lines()` also splits on
U+2028/U+2029/NEL, which are legal raw inside JSON strings and would cut a token in half. We feed
bytes ourselves rather than use httpx-sse's `EventSource.aiter_sse()` so that timestamps are taken
per network read, invalid UTF-8 can be counted instead of silently replaced, and lines that are not
SSE at all can be counted. httpx-sse offers its incremental decoders only from private modules,
so the few lines of decoding are here (and vvtui does not depend on httpx-sse).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

__all__ = ["SSEReader", "ServerSentEvent"]

_FIELDS = frozenset({"event", "data", "id", "retry"})
_REPLACEMENT = "\ufffd"
_REPLACEMENT_BYTES = _REPLACEMENT.encode("utf-8")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event. An event without an `event:` field is a "message"."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None

    def __post_init__(self) -> None:
        if not self.event:
            object.__setattr__(self, "event", "message")


_new = object.__new__
_SET_EVENT, _SET_DATA, _SET_ID, _SET_RETRY = (
    ServerSentEvent.__dict__[name].__set__ for name in ("event", "data", "id", "retry")
)


def _dispatch(event: str, data: str, last_id: str, retry: int | None) -> ServerSentEvent:
    """`ServerSentEvent(event, data, last_id, retry)` for an event name already defaulted: a
    frozen dataclass's __init__ sets each field through object.__setattr__ and then runs
    __post_init__, which made building the event cost more than decoding it (one per token)."""
    sse = _new(ServerSentEvent)
    _SET_EVENT(sse, event)
    _SET_DATA(sse, data)
    _SET_ID(sse, last_id)
    _SET_RETRY(sse, retry)
    return sse


class _Lines:
    """Text in, complete lines out; CR, LF and CRLF end a line, nothing else does."""

    __slots__ = ("_cr", "_partial")

    def __init__(self) -> None:
        # The start of a line whose end has not arrived (pieces, joined once it ends).
        self._partial: list[str] = []
        # A CR ended the last text: it ends a line, but a LF may follow it in the next text.
        self._cr = False

    def decode(self, text: str) -> list[str]:
        if self._cr:
            text = "\r" + text
            self._cr = False
        if text.endswith("\r"):
            self._cr = True
            text = text[:-1]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self._partial.append(text)
            return []
        lines = text.split("\n")
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
            self._partial = []
        last = lines.pop()
        if last:
            self._partial.append(last)
        return lines

    @property
    def empty(self) -> bool:
        return not self._partial and not self._cr

    def flush(self) -> list[str]:
        """The last line, when the text ended without its line break."""
        if not self._partial and not self._cr:
            return []
        line = "".join(self._partial)
        self._partial = []
        self._cr = False
        return [line]


class _Events:
    """Lines in, events out: fields gather until a blank line dispatches them."""

    __slots__ = ("_data", "_event", "_last_id", "_retry")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        # Not reset by a dispatch: an event without `id:` carries the last one seen. Read by
        # SSEReader's short path too (a property call per token showed in profiles).
        self._last_id = ""
        self._retry: int | None = None

    @property
    def empty(self) -> bool:
        """No fields waiting for their blank line (the last id is kept across events anyway)."""
        return not self._data and not self._event and self._retry is None

    def decode(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data:  # the spec dispatches nothing without data
                self._event = ""
                return None
            data = "\n".join(self._data)
            event = _dispatch(self._event or "message", data, self._last_id, self._retry)
            self._event, self._data, self._retry = "", [], None
            return event
        if line[0] == ":":  # a comment (keep-alives)
            return None
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None


class SSEReader:
    """Incremental decoder: `feed(bytes)` → complete events; `close()` flushes the rest.

    Counts, for the caller to flag: `bad_lines` (non-empty lines that are neither comments nor
    SSE fields: garbage between events) and `invalid_utf8` (byte sequences that were not UTF-8
    and became U+FFFD).
    """

    __slots__ = (
        "_clean",
        "_events",
        "_lines",
        "_repl_in",
        "_repl_out",
        "_started",
        "_tail",
        "_utf8",
        "bad_lines",
    )

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._lines = _Lines()
        self._events = _Events()
        self._repl_in = 0
        self._repl_out = 0
        self._tail = b""
        self._started = False
        # Whether the last read ended between events with nothing pending (see feed).
        self._clean = False
        self.bad_lines = 0

    @property
    def invalid_utf8(self) -> int:
        """Replacement characters we produced beyond those the server sent literally."""
        return max(0, self._repl_out - self._repl_in)

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        if not data:
            return []
        if self._clean and data[-2:] == b"\n\n" and data[:5] == b"data:":
            events = self._whole_data_events(data)
            if events is not None:
                return events
        text = self._decode(data, final=False)
        events = self._lines_to_events(self._lines.decode(text) if text else [])
        self._clean = self._at_boundary()
        return events

    def _whole_data_events(self, data: bytes) -> list[ServerSentEvent] | None:
        """The common read, cheaply: complete events, each a single `data:` line, valid UTF-8,
        no CR, starting where the last read left nothing pending (`_clean`). For such bytes the
        generic path (incremental decode, line split, field by field) ends in exactly these
        events and this state; for anything else this returns None, having changed nothing."""
        end = len(data) - 2
        if data.find(b"\r") >= 0:
            return None
        if data.find(b"\n", 0, end) < 0:  # one event: decode its value alone
            start = 6 if data[5:6] == b" " else 5
            try:
                values = [data[start:end].decode("utf-8")]
            except UnicodeDecodeError:
                return None
        else:
            try:
                blocks = data[:end].decode("utf-8").split("\n\n")
            except UnicodeDecodeError:
                return None
            values = []
            for block in blocks:
                if block[:5] != "data:" or "\n" in block:
                    return None
                values.append(block[6:] if block[5:6] == " " else block[5:])
        for value in values:
            if _REPLACEMENT in value:  # sent literally (the decode was strict): count both ways
                literal = value.count(_REPLACEMENT)
                self._repl_in += literal
                self._repl_out += literal
        self._tail = data[-2:]
        last_id = self._events._last_id
        return [_dispatch("message", value, last_id, None) for value in values]

    def _at_boundary(self) -> bool:
        """Nothing pending between reads: no undecoded bytes, no partial line, no fields of an
        undispatched event, and the byte-order mark question settled."""
        return (
            self._started
            and not self._utf8.getstate()[0]
            and self._lines.empty
            and self._events.empty
        )

    def close(self) -> list[ServerSentEvent]:
        """End of body: flush partial lines and dispatch a last event that lacked its blank line
        (lenient: a server that forgets the final separator still delivers its last chunk)."""
        text = self._decode(b"", final=True)
        lines = self._lines.decode(text) if text else []
        lines += self._lines.flush()
        lines.append("")
        return self._lines_to_events(lines)

    def _decode(self, data: bytes, *, final: bool) -> str:
        text = self._utf8.decode(data, final)
        if data:
            joined = self._tail + data
            self._repl_in += joined.count(_REPLACEMENT_BYTES)
            self._tail = joined[-2:]
        if _REPLACEMENT in text:
            self._repl_out += text.count(_REPLACEMENT)
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":  # the SSE spec drops one leading byte-order mark
                text = text[1:]
        return text

    def _lines_to_events(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        decoder = self._events
        for line in lines:
            if line and line[0] != ":":
                name = line.partition(":")[0]
                if name not in _FIELDS:
                    self.bad_lines += 1
                    continue
            event = decoder.decode(line)
            if event is not None:
                events.append(event)
        return events
