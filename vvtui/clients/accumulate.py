"""Folding one request's client events into a `vvtui.model.Result`. Pure: no I/O, no clock.

Definitions (documented here because reports and scoring depend on them):

- Times are relative to the `RequestSent` of the attempt that produced the answer: a retried
  request is timed from its last attempt (`attempts` says how many there were; the waits are in
  `extra["retries"]`). `ttfb_s`: response headers. `ttft_s`: the first event carrying non-empty
  answer text, reasoning or a tool-call fragment (a role-only first chunk is not a token).
  `total_s`: the closing `Finish`/`Failed` (or the last event, for a stream cut short).
- `tokens_per_s` = (N − n₁) / (t_last − t_first): N output tokens (usage, else logprob entries,
  else token-bearing deltas), n₁ tokens in the first token-bearing delta (its logprob entries,
  else 1), t_first/t_last the first/last token-bearing delta. A server that emits one token every
  1/r seconds after the first therefore measures r. None ("too short to time") unless the tokens
  after the first arrived in at least `MIN_RATE_READS` separate reads (distinct stamps) spread
  over at least `MIN_RATE_SPAN_S`: a short answer, or a burst of tokens a late server flushes
  at once, spans a fraction of a millisecond, and dividing by that gave rates in the tens of
  thousands for endpoints serving a hundred tokens a second.
- Token counts come from the provider's usage when it sends one; otherwise input is estimated
  with `count_tokens` over the messages and output from logprob entries or `count_tokens` over
  the answer (`usage_estimated=True`, flag `no_usage`).
- `cost_usd`: the provider's own figure (OpenRouter `usage.cost`) when given, else the
  endpoint's configured price applied to the token counts, else None.
- Flags come from `Flag` events (details under `extra["flag_details"]`), plus `no_usage`,
  `aborted` (finish reason "abort"), `incomplete` (no closing event at all) and
  `secret_redacted` (the answer held a known key: text redacted, token columns dropped).
  `truncated` is set for a partial failure, a capped answer, an abort and a stream with no
  closing event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from vvtui.clients.events import (
    ClientEvent,
    Failed,
    Finish,
    Flag,
    Meta,
    ReasoningDelta,
    RequestSent,
    ResponseHeaders,
    Retrying,
    TextDelta,
    TokenLogprob,
    ToolCallDelta,
    Usage,
)
from vvtui.clients.parser import LOGPROB_FLOOR
from vvtui.config import EndpointConfig
from vvtui.model import BytesColumn, ErrorInfo, Probe, Result, Tokens, ToolCall, TopColumn
from vvtui.redact import holds_secret, redact

_intern = sys.intern

# A per-request rate needs this many token-bearing reads after the first token's read...
MIN_RATE_READS = 4
# ...spread over at least this long, so that one stamp's error (a millisecond of event-loop lag)
# moves the rate by a few percent at most, not by orders of magnitude.
MIN_RATE_SPAN_S = 0.010


def _message_text(messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p["text"] for p in content if isinstance(p, dict) and "text" in p]
    return "\n".join(parts)


class _ToolAcc:
    __slots__ = ("args", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.args: list[str] = []


class Accumulator:
    """`feed(event)` for each event of one request, then `result()`."""

    def __init__(
        self,
        endpoint: EndpointConfig,
        probe: Probe,
        *,
        sample: int = 0,
        repeat: int = 0,
        count_tokens: Callable[[str], int] | None = None,
        started_at: float | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.probe = probe
        self.sample = sample
        self.repeat = repeat
        self.count_tokens = count_tokens
        self.started_at = started_at
        self.attempts = 0
        self.retries: list[dict[str, Any]] = []
        self._dispatch: dict[type, Callable[[Any], None]] = {
            RequestSent: self._sent,
            Retrying: self._retrying,
            ResponseHeaders: self._headers,
            Meta: self._meta,
            TextDelta: self._text,
            ReasoningDelta: self._reasoning,
            ToolCallDelta: self._tool,
            Usage: self._usage,
            Finish: self._finish,
            Failed: self._failed,
            Flag: self._flag,
        }
        self._reset(None)

    def _reset(self, t_sent: float | None) -> None:
        """Start over for a new attempt (retries happen only before any token arrived)."""
        self.t_sent = t_sent
        self.t_headers: float | None = None
        self.t_first: float | None = None
        self.n_first = 1
        self.later_reads = 0  # token-bearing reads (distinct stamps) after the first token's
        self.t_last: float | None = None
        self.t_end: float | None = None
        self.t_latest: float | None = t_sent
        self.text_parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.token_text: list[str] = []
        self.token_logprob: list[float] = []
        self.token_bytes = BytesColumn()
        self.token_top = TopColumn()
        self.has_logprob = self.has_bytes = self.has_top = False
        self.deltas = 0  # token-bearing deltas of any kind
        self.other_deltas = 0  # ... of them, reasoning and tool-call fragments
        self.tools: dict[int, _ToolAcc] = {}
        self.usage: Usage | None = None
        self.finish: Finish | None = None
        self.failed: Failed | None = None
        self.model: str | None = None
        self.provider: str | None = None
        self.fingerprint: str | None = None
        self.flags: list[str] = []
        self.flag_details: dict[str, str] = {}

    # ---- feeding

    @property
    def has_output(self) -> bool:
        """Whether answer, reasoning or tool-call text has arrived (a failure now is partial)."""
        return self.deltas > 0

    def feed(self, event: ClientEvent) -> None:
        handler = self._dispatch.get(type(event))
        if handler is not None:
            handler(event)
            t = event.t
            if self.t_latest is None or t > self.t_latest:
                self.t_latest = t

    def _sent(self, e: RequestSent) -> None:
        self.attempts = max(self.attempts + 1, e.attempt)
        self._reset(e.t)

    def _retrying(self, e: Retrying) -> None:
        self.retries.append(
            {"attempt": e.attempt, "delay_s": round(e.delay_s, 4), "reason": e.reason}
        )

    def _headers(self, e: ResponseHeaders) -> None:
        self.t_headers = e.t

    def _meta(self, e: Meta) -> None:
        self.model = e.model or self.model
        self.provider = e.upstream_provider or self.provider
        self.fingerprint = e.system_fingerprint or self.fingerprint

    def _token_time(self, t: float, first: bool, n_tokens: int) -> None:
        if first and self.t_first is None:
            self.t_first = t
            self.n_first = max(1, n_tokens)
        elif self.t_first is not None and (first or n_tokens) and t != self.t_last:
            self.later_reads += 1
        if self.t_first is not None:
            self.t_last = t
        if first or n_tokens:
            self.deltas += 1

    def _text(self, e: TextDelta) -> None:
        if e.text:
            self.text_parts.append(e.text)
        tokens = e.tokens
        if tokens:
            self._add_tokens(tokens)
        self._token_time(e.t, bool(e.text), len(tokens) if tokens else 0)

    def _add_tokens(self, tokens: list[TokenLogprob]) -> None:
        # Token strings are interned here, where results are built (snapshots repeat the same
        # few thousand strings millions of times); the columns are flat (see vvtui.model).
        for tok in tokens:
            self.token_text.append(_intern(tok.token))
            lp = tok.logprob
            if lp is None:
                # "Unknown" is stored like "not in the top 20": finite, and exp() is 0.
                lp = LOGPROB_FLOOR
            else:
                self.has_logprob = True
            self.token_logprob.append(lp)
            self.token_bytes.append(tok.bytes)
            if tok.bytes is not None:
                self.has_bytes = True
            if tok.top is not None:
                self.has_top = True
                self.token_top.append([(_intern(a), b) for a, b in tok.top])
            else:
                self.token_top.append(())

    def _reasoning(self, e: ReasoningDelta) -> None:
        if e.text:
            self.reasoning_parts.append(e.text)
            self.other_deltas += 1
        self._token_time(e.t, bool(e.text), 0)

    def _tool(self, e: ToolCallDelta) -> None:
        acc = self.tools.get(e.index)
        if acc is None:
            acc = self.tools[e.index] = _ToolAcc()
        # id and name arrive once; servers that repeat them must not get them doubled.
        if e.id and acc.id is None:
            acc.id = e.id
        if e.name and acc.name is None:
            acc.name = e.name
        if e.arguments:
            acc.args.append(e.arguments)
        self.other_deltas += 1
        self._token_time(e.t, True, 0)

    def _usage(self, e: Usage) -> None:
        self.usage = e

    def _finish(self, e: Finish) -> None:
        self.finish = e
        self.t_end = e.t

    def _failed(self, e: Failed) -> None:
        self.failed = e
        self.t_end = e.t

    def _flag(self, e: Flag) -> None:
        self._add_flag(e.name, e.detail)

    def _add_flag(self, name: str, detail: str = "") -> None:
        if name not in self.flags:
            self.flags.append(name)
        if detail:
            self.flag_details[name] = detail

    # ---- the result

    def _since_sent(self, t: float | None) -> float | None:
        if t is None or self.t_sent is None:
            return None
        return max(0.0, t - self.t_sent)

    def _tokens(self) -> Tokens | None:
        if not self.token_text:
            return None
        return Tokens(
            text=list(self.token_text),
            logprob=list(self.token_logprob) if self.has_logprob else None,
            bytes=self.token_bytes if self.has_bytes else None,
            top=self.token_top if self.has_top else None,
        )

    def result(self) -> Result:
        text = "".join(self.text_parts)
        reasoning = "".join(self.reasoning_parts)
        tool_calls = [
            ToolCall(index=i, name=acc.name or "", arguments="".join(acc.args), id=acc.id)
            for i, acc in sorted(self.tools.items())
        ]
        tokens = self._tokens()
        flags = list(self.flags)
        details = dict(self.flag_details)
        extra: dict[str, Any] = {}

        got_output = bool(text or reasoning or tool_calls or tokens)
        usage = self.usage
        input_tokens = usage.input_tokens if usage else None
        output_tokens = usage.output_tokens if usage else None
        estimated = False
        # Estimate (and so charge for) the prompt only when the server took the request: one that
        # was refused, errored or never answered produced nothing a provider bills for.
        answered = got_output or self.finish is not None
        if input_tokens is None and self.count_tokens is not None and answered:
            input_tokens = self.count_tokens(_message_text(self.probe.messages))
            estimated = True
        if output_tokens is None and got_output:
            if tokens is not None and not self.other_deltas:
                output_tokens = len(tokens)
            elif self.count_tokens is not None:
                args = "".join(t.arguments for t in tool_calls)
                output_tokens = self.count_tokens(reasoning + text + args)
            else:
                output_tokens = self.deltas
            estimated = True
        if usage is None and got_output and "no_usage" not in flags:
            flags.append("no_usage")

        cost = usage.cost_usd if usage else None
        if cost is None and self.endpoint.price is not None and (input_tokens or output_tokens):
            cost = self.endpoint.price.cost(input_tokens, output_tokens)

        rate = None
        if (
            self.t_first is not None
            and self.t_last is not None
            and self.later_reads >= MIN_RATE_READS
            and self.t_last - self.t_first >= MIN_RATE_SPAN_S
        ):
            n = output_tokens if usage and usage.output_tokens is not None else None
            if n is None:
                n = len(tokens) + self.other_deltas if tokens is not None else self.deltas
            after_first = n - self.n_first
            if after_first > 0:
                rate = after_first / (self.t_last - self.t_first)

        finish = self.finish
        failed = self.failed
        error: ErrorInfo | None = failed.error if failed else None
        truncated = False
        if failed is not None and failed.partial:
            truncated = True
        if "output_capped" in flags:
            truncated = True
        if finish is not None and finish.reason == "abort":
            truncated = True
            if "aborted" not in flags:
                flags.append("aborted")
        if finish is None and failed is None and self.t_sent is not None:
            truncated = got_output
            if "incomplete" not in flags:
                flags.append("incomplete")

        if finish is not None:
            extra.update(finish.extra)
            if finish.native_reason is not None:
                extra["native_finish_reason"] = finish.native_reason
        if details:
            extra["flag_details"] = details
        if self.retries:
            extra["retries"] = list(self.retries)

        end = self.t_end if self.t_end is not None else self.t_latest
        result = Result(
            endpoint=self.endpoint.name,
            probe_id=self.probe.id,
            sample=self.sample,
            repeat=self.repeat,
            text=text,
            reasoning=reasoning,
            tokens=tokens,
            tool_calls=tool_calls,
            finish_reason=finish.reason if finish else None,
            ttfb_s=self._since_sent(self.t_headers),
            ttft_s=self._since_sent(self.t_first),
            total_s=self._since_sent(end),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            tokens_per_s=rate,
            usage=dict(usage.raw) if usage else None,
            usage_estimated=estimated,
            cost_usd=cost,
            upstream_provider=self.provider,
            model_answered=self.model,
            system_fingerprint=self.fingerprint,
            truncated=truncated,
            error=error,
            attempts=max(1, self.attempts),
            started_at=self.started_at,
            flags=flags,
            extra=extra,
        )
        _scrub_secrets(result)
        return result


def _scrub_secrets(result: Result) -> None:
    """An endpoint that echoes a key into its answer (a debugging proxy, a model repeating its
    prompt) must not carry it into snapshots or screens. Text fields are redacted; the token
    columns cannot be, since a key split across tokens matches no whole-value search, so they are
    dropped and the result flagged `secret_redacted` (scoring falls back to its tokenizer)."""
    fields = [result.text, result.reasoning]
    fields += [part for call in result.tool_calls for part in (call.name, call.arguments)]
    if result.tokens is not None:
        fields.append("".join(result.tokens.text))
    if not any(holds_secret(text) for text in fields):
        return
    result.text = redact(result.text)
    result.reasoning = redact(result.reasoning)
    for call in result.tool_calls:
        call.name, call.arguments = redact(call.name), redact(call.arguments)
    result.tokens = None
    if "secret_redacted" not in result.flags:
        result.flags.append("secret_redacted")
