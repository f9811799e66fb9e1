"""Typed events a protocol client emits while one request streams.

Every event carries `t`, a `time.perf_counter()` stamp taken in the network layer as the bytes
that caused it arrived; the runner and the UI only ever show these, never their own clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vvtui.model import ErrorInfo


@dataclass(slots=True)
class TokenLogprob:
    """One generated token with its logprob and alternatives, as the provider reported it."""

    token: str
    logprob: float | None = None
    bytes: list[int] | None = None
    top: list[tuple[str, float]] | None = None


@dataclass(slots=True)
class RequestSent:
    t: float
    attempt: int = 1


@dataclass(slots=True)
class Retrying:
    """The previous attempt failed before any token arrived; waiting `delay_s` before the next."""

    t: float
    attempt: int
    delay_s: float
    reason: str


@dataclass(slots=True)
class ResponseHeaders:
    """Status line and headers arrived (time to first byte)."""

    t: float
    status: int


@dataclass(slots=True)
class Meta:
    """Response-level facts: the model that answered, the upstream a router used, the build."""

    t: float
    model: str | None = None
    upstream_provider: str | None = None
    system_fingerprint: str | None = None


@dataclass(slots=True)
class TextDelta:
    """Answer text (not reasoning). `tokens` holds the logprob entries that came with it."""

    t: float
    text: str
    tokens: list[TokenLogprob] | None = None


@dataclass(slots=True)
class ReasoningDelta:
    t: float
    text: str


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of tool call `index`: id and name come once, arguments are concatenated."""

    t: float
    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class Usage:
    t: float
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Cost the provider itself reported (OpenRouter's usage.cost), preferred over computed cost.
    cost_usd: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Finish:
    t: float
    reason: str | None
    native_reason: str | None = None
    # Server-side extras worth keeping (llama.cpp `timings`, vLLM `stop_reason`).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Failed:
    """The request ended in an error. `partial` is True when tokens had already arrived."""

    t: float
    error: ErrorInfo
    partial: bool = False


@dataclass(slots=True)
class Flag:
    """Something worth recording that is not an error (model_mismatch, output_capped...)."""

    t: float
    name: str
    detail: str = ""


ClientEvent = (
    RequestSent
    | Retrying
    | ResponseHeaders
    | Meta
    | TextDelta
    | ReasoningDelta
    | ToolCallDelta
    | Usage
    | Finish
    | Failed
    | Flag
)
