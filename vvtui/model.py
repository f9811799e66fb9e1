"""The plain data every room shares: probes, endpoints as recorded, results, snapshots.

Pure dataclasses and JSON conversion. No I/O besides (de)serialising dicts, and no imports of
Textual or httpx: the scoring core, reports and third-party scripts read snapshots through this
module. The JSON layout is documented in docs/snapshot.md; bump SCHEMA_VERSION on any breaking
change and keep `Snapshot.from_dict` reading older versions.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast, get_args, overload

from vvtui.errors import SnapshotError
from vvtui.reference import reference_of

SCHEMA_VERSION = 1


# --------------------------------------------------------------------------------------------
# The vocabulary: words stored in snapshots and reports and compared all over the tree. Literal
# aliases, not enums, so the values stay the plain strings already in snapshots and goldens (JSON,
# pickles and `==` against a str are unchanged) while mypy checks every literal written against
# them. Where a module needs the set of values at runtime it takes it from here (`get_args`), so
# each word is declared once. Error kinds are below, beside ErrorInfo.

# What a probe asks for, and so how its answers are compared (docs/probes.md).
ProbeKind = Literal["chat", "tool_call", "json", "logprob", "sampled"]
PROBE_KINDS: Final[tuple[ProbeKind, ...]] = get_args(ProbeKind)

# One probe's outcome on one endpoint, against the reference (vvtui.scoring.compare).
Mark = Literal["pass", "fail", "diverged", "error", "pending"]
MARKS: Final[tuple[Mark, ...]] = get_args(Mark)
# No answer yet (or only the reference's): the mark every probe starts with.
PENDING: Final = "pending"
# Worst last: the mark a probe shows over its samples, and how reports rank a change of mark.
# Keyed by str so a mark read back from a report's JSON looks up without a cast.
MARK_RANK: Final[Mapping[str, int]] = {PENDING: 0, "pass": 1, "diverged": 2, "fail": 3, "error": 4}

# An endpoint's verdict (vvtui.scoring.damage.verdict, capped by vvtui.scoring.verdict_gates).
# "no answers": requests went out and not one came back answered (offline, DNS, a dead host, an
# unset key): neither 100 nor 0, since nothing was measured.
Verdict = Literal["faithful", "degraded", "inconclusive", "reference", "no answers"]
VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)
NO_ANSWERS: Final = "no answers"

# Where a run is (the TUI's RunModel.phase, the header's phase word).
RunPhase = Literal["idle", "running", "scoring", "finished", "cancelled", "failed"]
RUN_PHASES: Final[tuple[RunPhase, ...]] = get_args(RunPhase)

# Where one answer is (a pane header's state; vvtui.tui.state.SlotStatus).
SlotState = Literal["waiting", "streaming", "retrying", "done", "error", "cancelled"]
SLOT_STATES: Final[tuple[SlotState, ...]] = get_args(SlotState)


# --------------------------------------------------------------------------------------------
# Reading JSON back: typed, so a hand-edited or corrupted snapshot fails here with the key named,
# not later as a TypeError deep in the scoring core.


class Invalid(ValueError):
    """A value of the wrong type or range in a serialised object; the message names the key."""


_JSON_TYPES = {
    str: "a string",
    bool: "true/false",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def _what(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _obj(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{key} must be an object, not {_what(value)}")
    return value


class _Reader:
    """Typed getters over one JSON object. Missing keys and null take the default."""

    __slots__ = ("d",)

    def __init__(self, data: Any, what: str = "entry") -> None:
        self.d = _obj(data, what)

    def _get(self, key: str) -> Any:
        return self.d.get(key)

    def req_str(self, key: str) -> str:
        value = self._get(key)
        if value is None:
            raise Invalid(f"{key} is missing")
        if not isinstance(value, str):
            raise Invalid(f"{key} must be a string, not {_what(value)}")
        return value

    def str_or(self, key: str, default: str = "") -> str:
        value = self._get(key)
        return default if value is None else self.req_str(key)

    def opt_str(self, key: str) -> str | None:
        return None if self._get(key) is None else self.req_str(key)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise Invalid(f"{key} must be true/false, not {_what(value)}")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"{key} must be an integer, not {_what(value)}")
        return value

    def int_or(self, key: str, default: int) -> int:
        value = self.opt_int(key)
        return default if value is None else value

    def opt_num(self, key: str) -> float | None:
        return _finite(self._get(key), key)

    def num_or(self, key: str, default: float) -> float:
        value = self.opt_num(key)
        return default if value is None else value

    def arr(self, key: str) -> list[Any]:
        value = self._get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise Invalid(f"{key} must be an array, not {_what(value)}")
        return value

    def opt_arr(self, key: str) -> list[Any] | None:
        return None if self._get(key) is None else self.arr(key)

    def str_arr(self, key: str) -> list[str]:
        items = self.arr(key)
        for item in items:
            if not isinstance(item, str):
                raise Invalid(f"{key} must be an array of strings, not hold {_what(item)}")
        return items

    def obj(self, key: str) -> dict[str, Any]:
        value = self._get(key)
        return {} if value is None else dict(_obj(value, key))

    def opt_obj(self, key: str) -> dict[str, Any] | None:
        return None if self._get(key) is None else self.obj(key)


def _finite(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{key} must be a number, not {_what(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise Invalid(f"{key} is out of range") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Invalid(f"{key} must be a finite number")
    return number


# --------------------------------------------------------------------------------------------
# Probes


@dataclass(slots=True)
class Check:
    """One expectation on an answer. `type` selects the checker; `spec` holds its parameters.

    Types (interpreted by vvtui.scoring.checks): exact, contains, regex, number, choice, json,
    json_schema, tool_call, no_tool_call, script.
    """

    type: str
    spec: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.spec}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        spec = dict(_obj(data, "check"))
        kind = spec.pop("type", None)
        if not isinstance(kind, str):
            raise Invalid(f"a check's type must be a string, not {_what(kind)}")
        return cls(type=kind, spec=spec)


@dataclass(slots=True)
class ExpectedToolCall:
    """A tool call the reference is expected to make (used by checks and by the simulator)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Probe:
    """A fully rendered probe: templates already drawn, ready to send."""

    id: str
    kind: ProbeKind = "chat"
    messages: list[dict[str, Any]] = field(default_factory=list)
    suite: str = ""
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    # Alternatives per position to ask for; 0 asks for the chosen token's logprob only.
    top_logprobs: int = 0
    n_samples: int = 1
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # The answer a faithful model gives. The simulator's reference follows it; people read it.
    answer: str | None = None
    answer_tool_calls: list[ExpectedToolCall] | None = None
    # Script the answer is expected in (for leakage checks): "latin", "cjk", "any"...
    language: str = "latin"
    description: str = ""
    # Values drawn by the template engine for this run (recorded so checks can be re-evaluated).
    params: dict[str, Any] = field(default_factory=dict)
    # Where the probe was defined, "file:line", for error messages.
    source: str | None = None

    @property
    def deterministic(self) -> bool:
        return self.kind != "sampled" and self.temperature == 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "suite": self.suite,
            "messages": self.messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "top_logprobs": self.top_logprobs,
            "n_samples": self.n_samples,
            "tools": self.tools,
            "tool_choice": self.tool_choice,
            "response_format": self.response_format,
            "extra_body": self.extra_body,
            "checks": [c.to_dict() for c in self.checks],
            "tags": self.tags,
            "answer": self.answer,
            "answer_tool_calls": (
                None
                if self.answer_tool_calls is None
                else [{"name": t.name, "arguments": t.arguments} for t in self.answer_tool_calls]
            ),
            "language": self.language,
            "description": self.description,
            "params": self.params,
            "source": self.source,
        }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Probe:
        r = _Reader(data, "probe")
        calls = r.opt_arr("answer_tool_calls")
        messages = r.arr("messages")
        for message in messages:
            _obj(message, "each message")
        tool_choice = r.d.get("tool_choice")
        return cls(
            id=r.req_str("id"),
            # As stored: suites check the kind when they are loaded (vvtui.suites.spec).
            kind=cast(ProbeKind, r.str_or("kind", "chat")),
            messages=list(messages),
            suite=r.str_or("suite"),
            temperature=r.num_or("temperature", 0.0),
            max_tokens=r.opt_int("max_tokens"),
            seed=r.opt_int("seed"),
            top_logprobs=r.int_or("top_logprobs", 0),
            n_samples=r.int_or("n_samples", 1),
            tools=r.opt_arr("tools"),
            tool_choice=tool_choice,
            response_format=r.opt_obj("response_format"),
            extra_body=r.obj("extra_body"),
            checks=[Check.from_dict(c) for c in r.arr("checks")],
            tags=list(r.str_arr("tags")),
            answer=r.opt_str("answer"),
            answer_tool_calls=(
                None
                if calls is None
                else [
                    ExpectedToolCall(
                        _Reader(c, "answer_tool_calls[]").req_str("name"),
                        _Reader(c).obj("arguments"),
                    )
                    for c in calls
                ]
            ),
            language=r.str_or("language", "latin") or "latin",
            description=r.str_or("description"),
            params=r.obj("params"),
            source=r.opt_str("source"),
        )


# --------------------------------------------------------------------------------------------
# Endpoints as recorded in a snapshot (never a key or a header value)


@dataclass(slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    source: str = "config"  # config | openrouter | sim

    def cost(self, input_tokens: int | None, output_tokens: int | None) -> float:
        return ((input_tokens or 0) * self.input + (output_tokens or 0) * self.output) / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Price | None:
        if data is None:
            return None
        r = _Reader(data, "price")
        for key in ("input", "output"):
            if r.opt_num(key) is None:
                raise Invalid(f"price.{key} is missing")
        return cls(r.num_or("input", 0.0), r.num_or("output", 0.0), r.str_or("source", "config"))


@dataclass(slots=True)
class EndpointInfo:
    name: str
    model: str
    base_url: str
    protocol: str = "openai"
    reference: bool = False
    price: Price | None = None
    simulated: bool = False
    # The *name* of the environment variable holding the key; never its value.
    api_key_env: str | None = None
    # Header *names* only: values may be credentials.
    header_names: list[str] = field(default_factory=list)
    extra_body: dict[str, Any] = field(default_factory=dict)
    max_concurrency: int = 4
    timeout_s: float = 60.0
    # Free-form labels shown in the UI (e.g. {"quant": "int4"} or {"simulated": "noisy kernel"}).
    labels: dict[str, str] = field(default_factory=dict)
    # Conformance checks run before the probes (vvtui.scoring.conformance.record): each check's
    # status and reason, the requests and tokens they cost. Empty when not checked.
    conformance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "protocol": self.protocol,
            "reference": self.reference,
            "price": None if self.price is None else self.price.to_dict(),
            "simulated": self.simulated,
            "api_key_env": self.api_key_env,
            "header_names": self.header_names,
            "extra_body": self.extra_body,
            "max_concurrency": self.max_concurrency,
            "timeout_s": self.timeout_s,
            "labels": self.labels,
            "conformance": self.conformance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointInfo:
        r = _Reader(data, "endpoint")
        labels = r.obj("labels")
        return cls(
            name=r.req_str("name"),
            model=r.str_or("model"),
            base_url=r.str_or("base_url"),
            protocol=r.str_or("protocol", "openai"),
            reference=r.flag("reference"),
            price=Price.from_dict(r.opt_obj("price")),
            simulated=r.flag("simulated"),
            api_key_env=r.opt_str("api_key_env"),
            header_names=list(r.str_arr("header_names")),
            extra_body=r.obj("extra_body"),
            max_concurrency=r.int_or("max_concurrency", 4),
            timeout_s=r.num_or("timeout_s", 60.0),
            labels={str(k): str(v) for k, v in labels.items()},
            conformance=r.obj("conformance"),
        )


# --------------------------------------------------------------------------------------------
# Results


class TopColumn(Sequence[list[tuple[str, float]]]):
    """`Tokens.top` kept flat: one list of alternative strings and one array of their logprobs for
    the whole answer, plus where each token's row ends. Reads as a sequence of rows, each a fresh
    list of (token, logprob) pairs, so it compares equal to the nested lists it replaces.

    Why: a 1000-probe x 8-endpoint run with 5-20 alternatives per token holds ~6 million of them;
    as (str, float) tuples in per-token lists that is ~90 bytes each (over 500 MB), flat it is 16.
    """

    __slots__ = ("_alts", "_ends", "_lps")

    def __init__(self, rows: Iterable[Iterable[tuple[str, float]]] = ()) -> None:
        self._alts: list[str] = []
        self._lps = array("d")
        self._ends = array("q")
        for row in rows:
            self.append(row)

    def append(self, row: Iterable[tuple[str, float]]) -> None:
        """Add the next token's alternatives."""
        alts, lps = self._alts, self._lps
        for alt, logprob in row:
            alts.append(alt)
            lps.append(logprob)
        self._ends.append(len(alts))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> list[tuple[str, float]]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[tuple[str, float]]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._ends)))]
        n = len(self._ends)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("TopColumn index out of range")
        start = self._ends[index - 1] if index else 0
        end = self._ends[index]
        return list(zip(self._alts[start:end], self._lps[start:end], strict=True))

    def __iter__(self) -> Iterator[list[tuple[str, float]]]:
        alts, lps = self._alts, self._lps
        start = 0
        for end in self._ends:
            yield list(zip(alts[start:end], lps[start:end], strict=True))
            start = end

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TopColumn):
            return (
                self._ends == other._ends and self._alts == other._alts and self._lps == other._lps
            )
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    # No __hash__: defining __eq__ leaves it None, so this is unhashable like the lists it equals.

    def __repr__(self) -> str:
        return f"TopColumn({list(self)!r})"

    def flat(self, rows: int) -> tuple[list[str], array[float], array[int]]:
        """The first `rows` rows as (alternatives, logprobs, row ends): no per-pair objects."""
        rows = max(0, min(rows, len(self._ends)))
        end = self._ends[rows - 1] if rows else 0
        return self._alts[:end], self._lps[:end], self._ends[:rows]


class BytesColumn(Sequence["list[int] | None"]):
    """`Tokens.bytes` kept flat: every token's bytes in one buffer (a row reads back as a list of
    ints, or None where the provider sent null), instead of a list object per token."""

    __slots__ = ("_data", "_ends", "_none")

    def __init__(self, rows: Iterable[Iterable[int] | None] = ()) -> None:
        self._data = bytearray()
        self._ends = array("q")
        self._none: set[int] = set()
        for row in rows:
            self.append(row)

    def append(self, row: Iterable[int] | None) -> None:
        if row is None:
            self._none.add(len(self._ends))
        else:
            self._data.extend(row)
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def piece(self, index: int) -> bytes | None:
        """Token `index`'s bytes as a bytes object (None where absent)."""
        n = len(self._ends)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("BytesColumn index out of range")
        if index in self._none:
            return None
        start = self._ends[index - 1] if index else 0
        return bytes(self._data[start : self._ends[index]])

    def pieces(self) -> list[bytes | None]:
        return [self.piece(i) for i in range(len(self._ends))]

    @overload
    def __getitem__(self, index: int) -> list[int] | None: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[int] | None]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._ends)))]
        piece = self.piece(index)
        return None if piece is None else list(piece)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BytesColumn):
            return (
                self._ends == other._ends
                and self._data == other._data
                and self._none == other._none
            )
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    # No __hash__: defining __eq__ leaves it None, so this is unhashable like the lists it equals.

    def __repr__(self) -> str:
        return f"BytesColumn({list(self)!r})"


@dataclass(slots=True)
class Tokens:
    """A completion's tokens as the provider reported them, column by column.

    `text[i]` is token i's string; `bytes[i]` its UTF-8 bytes when the provider gave them (a token
    may end mid-character); `logprob[i]` the chosen token's logprob; `top[i]` the alternatives as
    (token, logprob) pairs, best first. Columns other than `text` are None when absent.
    `bytes` and `top` are stored flat (`BytesColumn`, `TopColumn`; lists given are converted):
    they read like the nested lists, at a fraction of the memory.
    """

    text: list[str] = field(default_factory=list)
    logprob: list[float] | None = None
    bytes: Sequence[list[int] | None] | None = None
    top: Sequence[list[tuple[str, float]]] | None = None

    def __post_init__(self) -> None:
        if self.bytes is not None and not isinstance(self.bytes, BytesColumn):
            self.bytes = BytesColumn(self.bytes)
        if self.top is not None and not isinstance(self.top, TopColumn):
            self.top = TopColumn(self.top)

    def __len__(self) -> int:
        return len(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "logprob": self.logprob,
            "bytes": None if self.bytes is None else list(self.bytes),
            "top": None if self.top is None else [[list(p) for p in row] for row in self.top],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        intern = sys.intern
        r = _Reader(data, "tokens")
        text = [intern(t) for t in r.str_arr("text")]
        n = len(text)
        logprob = r.opt_arr("logprob")
        if logprob is not None:
            _same_length(logprob, n, "tokens.logprob")
            logprob = [_finite(x, "tokens.logprob[]") for x in logprob]
            if any(x is None for x in logprob):
                raise Invalid("tokens.logprob must hold numbers")
        raw_bytes = r.opt_arr("bytes")
        if raw_bytes is not None:
            _same_length(raw_bytes, n, "tokens.bytes")
            for row in raw_bytes:
                if row is not None and not (
                    isinstance(row, list) and all(type(b) is int and 0 <= b < 256 for b in row)
                ):
                    raise Invalid("tokens.bytes must hold arrays of byte values or null")
        top = r.opt_arr("top")
        rows: list[list[tuple[str, float]]] | None = None
        if top is not None:
            _same_length(top, n, "tokens.top")
            rows = []
            for row in top:
                if not isinstance(row, list):
                    raise Invalid(f"tokens.top must hold arrays, not {_what(row)}")
                pairs = []
                for pair in row:
                    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                        raise Invalid("tokens.top pairs must be [token, logprob]")
                    alt = _finite(pair[1], "tokens.top logprob")
                    if alt is None:
                        raise Invalid("tokens.top pairs must be [token, logprob]")
                    pairs.append((intern(pair[0]), alt))
                rows.append(pairs)
        return cls(text=text, logprob=logprob, bytes=raw_bytes, top=rows)


@dataclass(slots=True)
class ToolCall:
    index: int
    name: str
    arguments: str  # the raw concatenated argument string, parsed by the checks
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "name": self.name, "arguments": self.arguments}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        r = _Reader(data, "tool_call")
        return cls(
            index=r.int_or("index", 0),
            name=r.str_or("name"),
            arguments=r.str_or("arguments"),
            id=r.opt_str("id"),
        )


# Error kinds, so reports and gates can group failures without parsing messages.
ErrorKind = Literal[
    "connect",  # connection refused / reset before a response
    "dns",  # name resolution failed
    "timeout",  # no response headers in time, or no complete answer in request_timeout_s
    "stall",  # the stream stopped sending mid-answer
    "http",  # a 4xx/5xx status
    "rate_limited",  # 429 after the retries allowed
    "api",  # an {"error": ...} object, in a body or mid-stream
    "protocol",  # malformed SSE/JSON, invalid UTF-8, a stream with no end
    "dropped",  # the connection closed mid-stream
    "unsupported",  # the endpoint declares it lacks a feature the probe needs
    "cancelled",  # the user cancelled the run
    "config",  # not sent: the config needs what the environment lacks (an unset key variable)
    "down",  # not sent: the endpoint's circuit breaker was open (repeated transport failures)
    "internal",  # a bug in vvtui; reported, never silently dropped
]
ERROR_KINDS: Final[tuple[ErrorKind, ...]] = get_args(ErrorKind)
# Failures that say the host is not serving at all (or not in time): what the runner's circuit
# breaker and the conformance checks count towards "down".
TRANSPORT_KINDS: Final[frozenset[ErrorKind]] = frozenset(
    {"timeout", "stall", "connect", "dropped", "dns"}
)


@dataclass(slots=True)
class ErrorInfo:
    kind: ErrorKind
    message: str  # one line, already redacted
    status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "status": self.status}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ErrorInfo | None:
        if data is None:
            return None
        r = _Reader(data, "error")
        # Read as stored, not checked against ERROR_KINDS: a snapshot from a newer vvtui may
        # name a kind this one does not know, and it still loads (reports show the word).
        kind = cast(ErrorKind, r.str_or("kind", "internal"))
        return cls(kind, r.str_or("message"), r.opt_int("status"))


@dataclass(slots=True)
class Result:
    """One request's outcome: a probe × endpoint × sample (× reference repeat)."""

    endpoint: str
    probe_id: str
    sample: int = 0
    # 0 for the main pass; 1.. for the reference's repeat passes that measure its noise floor.
    repeat: int = 0
    text: str = ""
    reasoning: str = ""
    tokens: Tokens | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    # Seconds from sending the request (perf_counter stamps taken as bytes arrived).
    ttfb_s: float | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Output tokens per second after the first token.
    tokens_per_s: float | None = None
    usage: dict[str, Any] | None = None
    # True when token counts are vvtui's tokenizer estimate, not the provider's usage.
    usage_estimated: bool = False
    cost_usd: float | None = None
    upstream_provider: str | None = None
    model_answered: str | None = None
    system_fingerprint: str | None = None
    # The answer is partial (error after tokens arrived, output cap, cancellation).
    truncated: bool = False
    error: ErrorInfo | None = None
    attempts: int = 1
    # Wall-clock start, seconds since the epoch (for ordering and reports only).
    started_at: float | None = None
    # Things worth flagging: model_mismatch, provider_mismatch, output_capped, no_usage,
    # ignored_stream, no_finish_reason ...
    flags: list[str] = field(default_factory=list)
    # Server-reported extras kept for cross-checks (e.g. llama.cpp `timings`).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.endpoint, self.probe_id, self.sample, self.repeat)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "probe_id": self.probe_id,
            "sample": self.sample,
            "repeat": self.repeat,
            "text": self.text,
            "reasoning": self.reasoning,
            "tokens": None if self.tokens is None else self.tokens.to_dict(),
            "tool_calls": [t.to_dict() for t in self.tool_calls],
            "finish_reason": self.finish_reason,
            "ttfb_s": self.ttfb_s,
            "ttft_s": self.ttft_s,
            "total_s": self.total_s,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "tokens_per_s": self.tokens_per_s,
            "usage": self.usage,
            "usage_estimated": self.usage_estimated,
            "cost_usd": self.cost_usd,
            "upstream_provider": self.upstream_provider,
            "model_answered": self.model_answered,
            "system_fingerprint": self.system_fingerprint,
            "truncated": self.truncated,
            "error": None if self.error is None else self.error.to_dict(),
            "attempts": self.attempts,
            "started_at": self.started_at,
            "flags": self.flags,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        r = _Reader(data, "result")
        tokens = r.opt_obj("tokens")
        return cls(
            endpoint=r.req_str("endpoint"),
            probe_id=r.req_str("probe_id"),
            sample=r.int_or("sample", 0),
            repeat=r.int_or("repeat", 0),
            text=r.str_or("text"),
            reasoning=r.str_or("reasoning"),
            tokens=None if tokens is None else Tokens.from_dict(tokens),
            tool_calls=[ToolCall.from_dict(t) for t in r.arr("tool_calls")],
            finish_reason=r.opt_str("finish_reason"),
            ttfb_s=r.opt_num("ttfb_s"),
            ttft_s=r.opt_num("ttft_s"),
            total_s=r.opt_num("total_s"),
            input_tokens=r.opt_int("input_tokens"),
            output_tokens=r.opt_int("output_tokens"),
            tokens_per_s=r.opt_num("tokens_per_s"),
            usage=r.opt_obj("usage"),
            usage_estimated=r.flag("usage_estimated"),
            cost_usd=r.opt_num("cost_usd"),
            upstream_provider=r.opt_str("upstream_provider"),
            model_answered=r.opt_str("model_answered"),
            system_fingerprint=r.opt_str("system_fingerprint"),
            truncated=r.flag("truncated"),
            error=ErrorInfo.from_dict(r.opt_obj("error")),
            attempts=r.int_or("attempts", 1),
            started_at=r.opt_num("started_at"),
            flags=list(r.str_arr("flags")),
            extra=r.obj("extra"),
        )


def _same_length(values: list[Any], n: int, key: str) -> None:
    if len(values) != n:
        raise Invalid(f"{key} has {len(values)} entries for {n} tokens")


# --------------------------------------------------------------------------------------------
# Snapshot


@dataclass(slots=True)
class RunInfo:
    seed: int = 0
    suites: list[str] = field(default_factory=list)
    reference_repeats: int = 1
    started_at: str | None = None  # ISO 8601, UTC
    finished_at: str | None = None
    # False when the run was cancelled or interrupted: the results are what was gathered.
    complete: bool = False
    config_path: str | None = None
    command: str | None = None
    # --until-decided: {"rule", "order", "stopped"} (vvtui.scoring.decide.StoppingRecord); None
    # for a run that sent every probe to every endpoint.
    stopping: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "suites": self.suites,
            "reference_repeats": self.reference_repeats,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "complete": self.complete,
            "config_path": self.config_path,
            "command": self.command,
        } | ({"stopping": self.stopping} if self.stopping is not None else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        r = _Reader(data, "run")
        return cls(
            seed=r.int_or("seed", 0),
            suites=list(r.str_arr("suites")),
            reference_repeats=r.int_or("reference_repeats", 1),
            started_at=r.opt_str("started_at"),
            finished_at=r.opt_str("finished_at"),
            complete=r.flag("complete"),
            config_path=r.opt_str("config_path"),
            command=r.opt_str("command"),
            stopping=r.opt_obj("stopping"),
        )


@dataclass(slots=True)
class Snapshot:
    vvtui_version: str
    created_at: str
    run: RunInfo
    endpoints: list[EndpointInfo]
    probes: list[Probe]
    results: list[Result] = field(default_factory=list)
    # Filled by vvtui.scoring: {"endpoints": {name: {...}}, "probes": {...}, "meta": {...}}.
    scores: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def reference(self) -> EndpointInfo:
        if not self.endpoints:
            raise SnapshotError("snapshot has no endpoints")
        return reference_of(self.endpoints)

    def probe(self, probe_id: str) -> Probe:
        for p in self.probes:
            if p.id == probe_id:
                return p
        raise KeyError(probe_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "vvtui_version": self.vvtui_version,
            "created_at": self.created_at,
            "run": self.run.to_dict(),
            "endpoints": [e.to_dict() for e in self.endpoints],
            "probes": [p.to_dict() for p in self.probes],
            "results": [r.to_dict() for r in self.results],
            "scores": self.scores,
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "snapshot") -> Snapshot:
        if not isinstance(data, dict):
            raise SnapshotError(f"{source}: not a vvtui snapshot (top level is not an object)")
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise SnapshotError(f"{source}: not a vvtui snapshot (no schema_version)")
        if version > SCHEMA_VERSION:
            raise SnapshotError(
                f"{source}: schema_version {version} is newer than this vvtui reads "
                f"({SCHEMA_VERSION})",
                hint="upgrade vvtui",
            )
        where = "top level"
        try:
            top = _Reader(data, "snapshot")
            where = "run"
            run = RunInfo.from_dict(top.obj("run"))
            endpoints = []
            for i, e in enumerate(top.arr("endpoints")):
                where = f"endpoints[{i}]"
                endpoints.append(EndpointInfo.from_dict(e))
            probes = []
            for i, p in enumerate(top.arr("probes")):
                where = f"probes[{i}]"
                probes.append(Probe.from_dict(p))
            results = []
            for i, r in enumerate(top.arr("results")):
                where = f"results[{i}]"
                results.append(Result.from_dict(r))
            where = "top level"
            scores = top.obj("scores")
            vvtui_version = top.str_or("vvtui_version", "?")
            created_at = top.str_or("created_at")
        except Invalid as exc:
            raise SnapshotError(f"{source}: invalid {where}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise SnapshotError(f"{source}: invalid {where}: {type(exc).__name__}: {exc}") from None
        return cls(
            vvtui_version=vvtui_version,
            created_at=created_at,
            run=run,
            endpoints=endpoints,
            probes=probes,
            results=results,
            scores=scores,
            schema_version=version,
        )
