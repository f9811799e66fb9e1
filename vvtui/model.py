"""The plain data every room shares: probes, endpoints as recorded, results, snapshots.

Pure dataclasses and JSON conversion. No I/O besides (de)serialising dicts, and no imports of
Textual or httpx: the scoring core, reports and third-party scripts read snapshots through this
module. The JSON layout is documented in docs/snapshot.md; bump SCHEMA_VERSION on any breaking
change and keep `Snapshot.from_dict` reading older versions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from vvtui.errors import SnapshotError

SCHEMA_VERSION = 1

PROBE_KINDS = ("chat", "tool_call", "json", "logprob", "sampled")


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
        spec = dict(data)
        kind = spec.pop("type")
        return cls(type=str(kind), spec=spec)


@dataclass(slots=True)
class ExpectedToolCall:
    """A tool call the reference is expected to make (used by checks and by the simulator)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Probe:
    """A fully rendered probe: templates already drawn, ready to send."""

    id: str
    kind: str = "chat"
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
        calls = data.get("answer_tool_calls")
        return cls(
            id=str(data["id"]),
            kind=str(data.get("kind", "chat")),
            messages=list(data.get("messages") or []),
            suite=str(data.get("suite") or ""),
            temperature=float(data.get("temperature") or 0.0),
            max_tokens=data.get("max_tokens"),
            seed=data.get("seed"),
            top_logprobs=int(data.get("top_logprobs") or 0),
            n_samples=int(data.get("n_samples") or 1),
            tools=data.get("tools"),
            tool_choice=data.get("tool_choice"),
            response_format=data.get("response_format"),
            extra_body=dict(data.get("extra_body") or {}),
            checks=[Check.from_dict(c) for c in data.get("checks") or []],
            tags=list(data.get("tags") or []),
            answer=data.get("answer"),
            answer_tool_calls=(
                None
                if calls is None
                else [ExpectedToolCall(c["name"], dict(c.get("arguments") or {})) for c in calls]
            ),
            language=str(data.get("language") or "latin"),
            description=str(data.get("description") or ""),
            params=dict(data.get("params") or {}),
            source=data.get("source"),
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
        return cls(float(data["input"]), float(data["output"]), str(data.get("source", "config")))


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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointInfo:
        return cls(
            name=str(data["name"]),
            model=str(data.get("model", "")),
            base_url=str(data.get("base_url", "")),
            protocol=str(data.get("protocol", "openai")),
            reference=bool(data.get("reference", False)),
            price=Price.from_dict(data.get("price")),
            simulated=bool(data.get("simulated", False)),
            api_key_env=data.get("api_key_env"),
            header_names=list(data.get("header_names") or []),
            extra_body=dict(data.get("extra_body") or {}),
            max_concurrency=int(data.get("max_concurrency", 4)),
            timeout_s=float(data.get("timeout_s", 60.0)),
            labels=dict(data.get("labels") or {}),
        )


# --------------------------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class Tokens:
    """A completion's tokens as the provider reported them, column by column.

    `text[i]` is token i's string; `bytes[i]` its UTF-8 bytes when the provider gave them (a token
    may end mid-character); `logprob[i]` the chosen token's logprob; `top[i]` the alternatives as
    (token, logprob) pairs, best first. Columns other than `text` are None when absent.
    """

    text: list[str] = field(default_factory=list)
    logprob: list[float] | None = None
    bytes: list[list[int] | None] | None = None
    top: list[list[tuple[str, float]]] | None = None

    def __len__(self) -> int:
        return len(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "logprob": self.logprob,
            "bytes": self.bytes,
            "top": None if self.top is None else [[list(p) for p in row] for row in self.top],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        intern = sys.intern
        top = data.get("top")
        return cls(
            text=[intern(t) for t in data.get("text") or []],
            logprob=data.get("logprob"),
            bytes=data.get("bytes"),
            top=None if top is None else [[(intern(t), float(lp)) for t, lp in row] for row in top],
        )


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
        return cls(
            index=int(data.get("index", 0)),
            name=str(data.get("name") or ""),
            arguments=str(data.get("arguments") or ""),
            id=data.get("id"),
        )


# Error kinds, so reports and gates can group failures without parsing messages.
ERROR_KINDS = (
    "connect",  # connection refused / reset before a response
    "dns",  # name resolution failed
    "timeout",  # no response headers in time
    "stall",  # the stream stopped sending mid-answer
    "http",  # a 4xx/5xx status
    "rate_limited",  # 429 after the retries allowed
    "api",  # an {"error": ...} object, in a body or mid-stream
    "protocol",  # malformed SSE/JSON, invalid UTF-8, a stream with no end
    "dropped",  # the connection closed mid-stream
    "unsupported",  # the endpoint declares it lacks a feature the probe needs
    "cancelled",  # the user cancelled the run
    "config",  # not sent: the config needs what the environment lacks (an unset key variable)
    "internal",  # a bug in vvtui; reported, never silently dropped
)


@dataclass(slots=True)
class ErrorInfo:
    kind: str
    message: str  # one line, already redacted
    status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "status": self.status}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ErrorInfo | None:
        if data is None:
            return None
        return cls(
            str(data.get("kind", "internal")), str(data.get("message", "")), data.get("status")
        )


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
        tokens = data.get("tokens")
        return cls(
            endpoint=str(data["endpoint"]),
            probe_id=str(data["probe_id"]),
            sample=int(data.get("sample", 0)),
            repeat=int(data.get("repeat", 0)),
            text=str(data.get("text") or ""),
            reasoning=str(data.get("reasoning") or ""),
            tokens=None if tokens is None else Tokens.from_dict(tokens),
            tool_calls=[ToolCall.from_dict(t) for t in data.get("tool_calls") or []],
            finish_reason=data.get("finish_reason"),
            ttfb_s=data.get("ttfb_s"),
            ttft_s=data.get("ttft_s"),
            total_s=data.get("total_s"),
            input_tokens=data.get("input_tokens"),
            output_tokens=data.get("output_tokens"),
            tokens_per_s=data.get("tokens_per_s"),
            usage=data.get("usage"),
            usage_estimated=bool(data.get("usage_estimated", False)),
            cost_usd=data.get("cost_usd"),
            upstream_provider=data.get("upstream_provider"),
            model_answered=data.get("model_answered"),
            system_fingerprint=data.get("system_fingerprint"),
            truncated=bool(data.get("truncated", False)),
            error=ErrorInfo.from_dict(data.get("error")),
            attempts=int(data.get("attempts", 1)),
            started_at=data.get("started_at"),
            flags=list(data.get("flags") or []),
            extra=dict(data.get("extra") or {}),
        )


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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        return cls(
            seed=int(data.get("seed", 0)),
            suites=list(data.get("suites") or []),
            reference_repeats=int(data.get("reference_repeats", 1)),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            complete=bool(data.get("complete", False)),
            config_path=data.get("config_path"),
            command=data.get("command"),
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
        for e in self.endpoints:
            if e.reference:
                return e
        if not self.endpoints:
            raise SnapshotError("snapshot has no endpoints")
        return self.endpoints[0]

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
        if not isinstance(version, int):
            raise SnapshotError(f"{source}: not a vvtui snapshot (no schema_version)")
        if version > SCHEMA_VERSION:
            raise SnapshotError(
                f"{source}: schema_version {version} is newer than this vvtui reads "
                f"({SCHEMA_VERSION})",
                hint="upgrade vvtui",
            )
        where = "top level"
        try:
            where = "run"
            run = RunInfo.from_dict(data.get("run") or {})
            where = "endpoints"
            endpoints = [EndpointInfo.from_dict(e) for e in data.get("endpoints") or []]
            where = "probes"
            probes = [Probe.from_dict(p) for p in data.get("probes") or []]
            results = []
            for i, r in enumerate(data.get("results") or []):
                where = f"results[{i}]"
                results.append(Result.from_dict(r))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"{source}: invalid {where}: {type(exc).__name__}: {exc}") from None
        return cls(
            vvtui_version=str(data.get("vvtui_version", "?")),
            created_at=str(data.get("created_at", "")),
            run=run,
            endpoints=endpoints,
            probes=probes,
            results=results,
            scores=dict(data.get("scores") or {}),
            schema_version=version,
        )
