"""Server-sent events from raw bytes, robust to what real servers send.

Bytes → text → lines → events. Lines are split only on CR, LF and CRLF by httpx-sse's decoders
(httpx's own `aiter_lines()` also splits on U+2028/U+2029/NEL, which are legal raw inside JSON
strings and would cut a token in half). We feed bytes ourselves rather than use
`EventSource.aiter_sse()` so that timestamps are taken per network read, invalid UTF-8 can be
counted instead of silently replaced, and lines that are not SSE at all can be counted.
"""

from __future__ import annotations

import codecs

# httpx-sse exposes these only from a private module; its public iterator hides the byte
# boundaries we time and count. Pinned by pyproject (httpx-sse>=0.4.3).
from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from httpx_sse._models import ServerSentEvent

__all__ = ["SSEReader", "ServerSentEvent"]

_FIELDS = frozenset({"event", "data", "id", "retry"})
_REPLACEMENT = "\ufffd"
_REPLACEMENT_BYTES = _REPLACEMENT.encode("utf-8")


class SSEReader:
    """Incremental decoder: `feed(bytes)` → complete events; `close()` flushes the rest.

    Counts, for the caller to flag: `bad_lines` (non-empty lines that are neither comments nor
    SSE fields: garbage between events) and `invalid_utf8` (byte sequences that were not UTF-8
    and became U+FFFD).
    """

    __slots__ = (
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
        self._lines = SSELineDecoder()
        self._events = SSEDecoder()
        self._repl_in = 0
        self._repl_out = 0
        self._tail = b""
        self._started = False
        self.bad_lines = 0

    @property
    def invalid_utf8(self) -> int:
        """Replacement characters we produced beyond those the server sent literally."""
        return max(0, self._repl_out - self._repl_in)

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        if not data:
            return []
        text = self._decode(data, final=False)
        return self._lines_to_events(self._lines.decode(text) if text else [])

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
