"""Conformance checks: does a host honour the request's parameters and bill what it served?

The Kimi Vendor Verifier's pre-flight idea. A handful of cheap requests per endpoint (sent by
vvtui.clients.conformance) are reduced to plain `Observation`s; the functions here judge them,
each against the reference's observations of the same requests where that is the yardstick
(same weights, same tokenizer, same chat template: same prompt_tokens, same finish). Pure data
in, plain data out: no httpx, no Textual.

Checks (names are stable: snapshots and reports use them):
    max_tokens      never more completion tokens than asked; finish_reason "length" when hit
    max_tokens_kept an answer the reference finishes within max_tokens is not cut (a host that
                    silently lowers max_tokens)
    stop            a stop sequence never appears in the answer
    temperature_0   two temperature-0 answers agree, or part only at a near-tie
    temperature_1   several temperature-1 samples are not all identical (forced greedy)
    logprobs        top_logprobs = k gives k alternatives, probabilities sum to <= 1, the chosen
                    token among them
    usage           prompt_tokens equal to the reference's (within a slack), completion_tokens
                    equal to the tokens streamed; streamed and non-streamed
    context         a fact from the start of a long prompt is still known at its end
    tool_stream     streamed tool-call argument fragments join into the JSON the non-streamed
                    call returns

Each check ends `pass`, `fail` or `not_measured` (the endpoint declared it lacks the feature, or
the requests it needs failed) with a one-line reason. Docs: docs/scoring.md, docs/probes.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from vvtui.model import ErrorKind, Verdict
from vvtui.scoring.damage import TIE_MARGIN
from vvtui.scoring.verdict_gates import DEGRADED, Gate, gated_verdict

PASS = "pass"
FAIL = "fail"
NOT_MEASURED = "not_measured"
STATUSES = (PASS, FAIL, NOT_MEASURED)

CHECKS = (
    "max_tokens",
    "max_tokens_kept",
    "stop",
    "temperature_0",
    "temperature_1",
    "logprobs",
    "usage",
    "context",
    "tool_stream",
)
# Short names for tables and the pane footer.
SHORT = {
    "max_tokens": "max_tok",
    "max_tokens_kept": "not_cut",
    "stop": "stop",
    "temperature_0": "temp0",
    "temperature_1": "temp1",
    "logprobs": "logprobs",
    "usage": "usage",
    "context": "context",
    "tool_stream": "tool_stream",
}
# Why each check failed, in words a verdict line can use.
FAILURE_WORDS = {
    "max_tokens": "max_tokens not honoured",
    "max_tokens_kept": "answers cut short",
    "stop": "stop sequences ignored",
    "temperature_0": "temperature 0 ignored",
    "temperature_1": "sampling ignored",
    "logprobs": "logprobs malformed",
    "usage": "token bill does not match",
    "context": "context window shorter",
    "tool_stream": "streamed tool calls broken",
}

# Tokens of prompt_tokens surplus tolerated against the reference by default (a BOS token or a
# template build that differs by a newline); more means the prompt was altered or padded.
DEFAULT_USAGE_SLACK = 2
# completion_tokens may count an end-of-sequence token that is never streamed (llama.cpp does).
COMPLETION_SLACK = 1
# Probabilities of the top alternatives are rounded by servers (6 decimals); 1e-3 absorbs that.
PROB_SUM_TOLERANCE = 1e-3
# Share of positions allowed to break a logprobs rule (a final end-of-sequence position may
# carry fewer alternatives on some servers).
LOGPROB_BAD_SHARE = 0.1


@dataclass(slots=True)
class Observation:
    """One conformance request's answer, as plain data (what a check needs, nothing more)."""

    text: str = ""
    finish_reason: str | None = None
    # Provider-reported usage only (None when the provider sent none; never an estimate).
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # Tokens as streamed with their logprobs (None when no logprobs came back).
    tokens: list[str] | None = None
    logprobs: list[float] | None = None
    top: list[list[tuple[str, float]]] | None = None
    tool_name: str | None = None
    tool_arguments: str | None = None
    # "kind: message" when the request failed; `unsupported` kinds mean the feature was refused.
    error: str | None = None
    error_kind: ErrorKind | None = None
    # What was asked, for reasons and the cost record.
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def refused(self) -> bool:
        return self.error_kind == "unsupported"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Observation:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        if kw.get("top") is not None:
            kw["top"] = [[(str(t), float(lp)) for t, lp in row] for row in kw["top"]]
        return cls(**kw)


@dataclass(slots=True)
class Outcome:
    status: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        status = str(data.get("status", NOT_MEASURED))
        return cls(status if status in STATUSES else NOT_MEASURED, str(data.get("reason", "")))


@dataclass(slots=True)
class Settings:
    """What the checks were asked to do (recorded so a reader knows what a pass means)."""

    context_tokens: int = 6000
    usage_slack: int = DEFAULT_USAGE_SLACK
    top_logprobs: int = 5
    # The fact the context probe hid at the start of its prompt.
    context_fact: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


Observations = dict[str, list[Observation]]


# --------------------------------------------------------------------------------------------
# The checks: (own observations, the reference's or None, settings) -> Outcome


def _first(obs: Observations, key: str) -> Observation | None:
    found = obs.get(key) or []
    return found[0] if found else None


def _gone(o: Observation | None, what: str) -> Outcome | None:
    """not_measured when the request is missing or failed; None when it can be judged."""
    if o is None:
        return Outcome(NOT_MEASURED, f"no {what} request was sent")
    if o.refused:
        return Outcome(NOT_MEASURED, f"refused: {o.error}")
    if not o.ok:
        return Outcome(NOT_MEASURED, f"request failed: {o.error}")
    return None


def _one(own: Observations, key: str, what: str) -> Observation | Outcome:
    """The first observation under `key` when it can be judged, else why not (an Outcome)."""
    o = _first(own, key)
    gone = _gone(o, what)
    if gone is not None or o is None:
        return gone or Outcome(NOT_MEASURED)
    return o


def _count(o: Observation) -> int | None:
    """Completion tokens: the provider's count, else the tokens streamed with logprobs."""
    if o.completion_tokens is not None:
        return o.completion_tokens
    return None if o.tokens is None else len(o.tokens)


def check_max_tokens(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    o = _one(own, "max_tokens", "max_tokens")
    if isinstance(o, Outcome):
        return o
    asked = o.max_tokens or 0
    n = _count(o)
    if n is None:
        return Outcome(NOT_MEASURED, "no usage and no logprobs: completion tokens unknown")
    if n > asked:
        return Outcome(FAIL, f"{n} completion tokens for max_tokens={asked}")
    if n >= asked and o.finish_reason != "length":
        return Outcome(FAIL, f"hit max_tokens={asked} but finish_reason is {o.finish_reason!r}")
    return Outcome(PASS, f"{n} tokens for max_tokens={asked}, finish_reason {o.finish_reason!r}")


def check_max_tokens_kept(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    o = _one(own, "long", "long-answer")
    if isinstance(o, Outcome):
        return o
    asked = o.max_tokens or 0
    n = _count(o)
    r = _first(ref, "long") if ref is not None else None
    r_n = _count(r) if r is not None and r.ok else None
    if o.finish_reason == "length" and n is not None and n < asked:
        return Outcome(FAIL, f"cut at {n} tokens with finish_reason 'length'; asked {asked}")
    if (
        o.finish_reason == "length"
        and r is not None
        and r.ok
        and r.finish_reason == "stop"
        and r_n is not None
        and r_n < asked
    ):
        where = f"at {n} tokens" if n is not None else ""
        return Outcome(FAIL, f"cut {where} where the reference finished in {r_n}".strip())
    size = f"{n} tokens" if n is not None else "an answer"
    return Outcome(PASS, f"{size} within max_tokens={asked}, finish_reason {o.finish_reason!r}")


def check_stop(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    o = _one(own, "stop", "stop")
    if isinstance(o, Outcome):
        return o
    hit = [x for x in o.stop if x and x in o.text]
    if hit:
        at = o.text.find(hit[0])
        return Outcome(FAIL, f"stop {hit[0]!r} appears in the answer at character {at}")
    return Outcome(PASS, f"answer ends before {', '.join(map(repr, o.stop))}")


def first_divergence(a: list[str], b: list[str]) -> int | None:
    """Index of the first token where two sequences differ (None when equal)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def tie_gap(o: Observation, i: int, other: str | None) -> float | None:
    """Logprob gap at position i between o's chosen token and `other` (None: not in its top)."""
    if o.top is None or o.logprobs is None or i >= len(o.logprobs) or i >= len(o.top):
        return None
    if other is None:
        return None
    for token, lp in o.top[i]:
        if token == other:
            return abs(o.logprobs[i] - lp)
    return None


def not_top(o: Observation) -> tuple[int, float] | None:
    """The first position whose chosen token is more than a near-tie below its best
    alternative, and by how much (greedy decoding always takes the top token)."""
    if o.logprobs is None or o.top is None:
        return None
    for i, (lp, row) in enumerate(zip(o.logprobs, o.top, strict=False)):
        best = max((alt for _, alt in row), default=lp)
        if best - lp >= TIE_MARGIN:
            return i, best - lp
    return None


def check_temperature_0(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    runs = own.get("greedy") or []
    if len(runs) < 2:
        return Outcome(NOT_MEASURED, "fewer than two temperature-0 answers")
    for o in runs:
        gone = _gone(o, "temperature-0")
        if gone is not None:
            return gone
    for o in runs:
        below = not_top(o)
        if below is not None:
            pos, nats = below
            return Outcome(FAIL, f"at temperature 0, token {pos} was {nats:.2f} nats below the top")
    a, b = runs[0], runs[1]
    if a.tokens is not None and b.tokens is not None:
        i = first_divergence(a.tokens, b.tokens)
        if i is None:
            return Outcome(PASS, f"two answers agree on all {len(a.tokens)} tokens")
        b_tok = b.tokens[i] if i < len(b.tokens) else None
        a_tok = a.tokens[i] if i < len(a.tokens) else None
        gaps = [g for g in (tie_gap(a, i, b_tok), tie_gap(b, i, a_tok)) if g is not None]
        if gaps and min(gaps) < TIE_MARGIN:
            return Outcome(PASS, f"answers part at token {i}, a near-tie ({min(gaps):.2f} nats)")
        gap = f"{min(gaps):.2f} nats apart" if gaps else "not among the alternatives"
        return Outcome(FAIL, f"two temperature-0 answers part at token {i}, {gap}")
    if a.text == b.text:
        return Outcome(PASS, "two answers agree (no logprobs: compared as text)")
    i = first_divergence(list(a.text), list(b.text))
    return Outcome(FAIL, f"two temperature-0 answers differ at character {i} (no logprobs)")


def check_temperature_1(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    runs = own.get("sampled") or []
    good = [o for o in runs if o.ok]
    if len(good) < 2:
        return _gone(runs[0] if runs else None, "temperature-1") or Outcome(
            NOT_MEASURED, "fewer than two temperature-1 samples"
        )
    distinct = len({o.text for o in good})
    if distinct == 1:
        return Outcome(FAIL, f"{len(good)} samples at temperature 1 are identical")
    return Outcome(PASS, f"{distinct} distinct answers in {len(good)} samples at temperature 1")


def check_logprobs(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    o = _one(own, "greedy", "logprobs")
    if isinstance(o, Outcome):
        return o
    if o.tokens is None or o.top is None or o.logprobs is None:
        return Outcome(FAIL, f"top_logprobs={s.top_logprobs} accepted, no logprobs came back")
    k = s.top_logprobs
    n = len(o.top)
    if n == 0:
        return Outcome(FAIL, "no token positions with logprobs")
    wrong_k = over_one = missing = 0
    for i, row in enumerate(o.top):
        if len(row) != k:
            wrong_k += 1
        mass = math.fsum(math.exp(lp) for _, lp in row if lp > -1e4)
        if mass > 1.0 + PROB_SUM_TOLERANCE:
            over_one += 1
        chosen = o.tokens[i] if i < len(o.tokens) else None
        if chosen is not None and row and chosen not in {t for t, _ in row}:
            missing += 1
    limit = LOGPROB_BAD_SHARE * n
    if over_one:
        return Outcome(FAIL, f"alternatives' probabilities sum above 1 at {over_one}/{n} tokens")
    if wrong_k > limit:
        return Outcome(FAIL, f"{wrong_k}/{n} tokens carry other than {k} alternatives")
    if missing > limit:
        return Outcome(FAIL, f"chosen token missing from its alternatives at {missing}/{n}")
    return Outcome(PASS, f"{k} alternatives at {n - wrong_k}/{n} tokens, sums <= 1")


def check_usage(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    candidates = [o for key in ("greedy", "whole") for o in (own.get(key) or [])[:1] if o.ok]
    if not candidates:
        return _gone(_first(own, "whole"), "usage") or Outcome(NOT_MEASURED, "no answers")
    billed = [o for o in candidates if o.prompt_tokens is not None]
    if not billed:
        return Outcome(NOT_MEASURED, "no usage reported, streamed or not")
    # completion_tokens against what was streamed (only countable with logprobs).
    for o in billed:
        if o.tokens is not None and o.completion_tokens is not None:
            extra = o.completion_tokens - len(o.tokens)
            if not 0 <= extra <= COMPLETION_SLACK:
                return Outcome(
                    FAIL,
                    f"completion_tokens {o.completion_tokens} for {len(o.tokens)} tokens "
                    f"sent ({extra:+d})",
                )
    mine = max(o.prompt_tokens or 0 for o in billed)
    theirs = None
    if ref is not None:
        ref_billed = [
            o.prompt_tokens
            for key in ("greedy", "whole")
            for o in (ref.get(key) or [])[:1]
            if o.ok and o.prompt_tokens is not None
        ]
        theirs = max(ref_billed) if ref_billed else None
    if theirs is None:
        return Outcome(PASS, f"prompt_tokens {mine}; no reference count to compare")
    diff = mine - theirs
    if abs(diff) > s.usage_slack:
        return Outcome(FAIL, f"prompt_tokens {mine} vs the reference's {theirs} ({diff:+d} tokens)")
    return Outcome(PASS, f"prompt_tokens {mine} vs the reference's {theirs} ({diff:+d})")


def check_context(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    o = _one(own, "context", "context")
    if isinstance(o, Outcome):
        return o
    fact = s.context_fact.lower()
    billed = f", prompt_tokens {o.prompt_tokens}" if o.prompt_tokens is not None else ""
    if fact and fact in o.text.lower():
        return Outcome(PASS, f"recalled the fact from the start of ~{s.context_tokens} tokens")
    # Without the filler the same question must be answerable, else the answer is wrong for
    # another reason (damaged weights), which the probes measure, not a lost context.
    control = _first(own, "context_short")
    if control is not None and control.ok and fact and fact not in control.text.lower():
        return Outcome(NOT_MEASURED, "misses the fact even in a short prompt (a wrong answer)")
    # A model that saw the fact but garbles a digit of it (damaged weights) still says part of
    # it; one whose window lost it says none of it.
    parts = [p for p in fact.split("-") if p]
    if any(p in o.text.lower() for p in parts):
        return Outcome(NOT_MEASURED, "recalled the fact only in part (a wrong answer, not a cut)")
    return Outcome(FAIL, f"lost the fact from the start of ~{s.context_tokens} tokens{billed}")


def _args(o: Observation) -> tuple[bool, Any]:
    try:
        return True, json.loads(o.tool_arguments or "")
    except ValueError:
        return False, None


def check_tool_stream(own: Observations, ref: Observations | None, s: Settings) -> Outcome:
    streamed, whole = _first(own, "tool_streamed"), _first(own, "tool_whole")
    for o, what in ((streamed, "streamed tool"), (whole, "non-streamed tool")):
        gone = _gone(o, what)
        if gone is not None:
            return gone
    assert streamed is not None and whole is not None
    if whole.tool_name is None:
        return Outcome(NOT_MEASURED, "the non-streamed request made no tool call")
    if streamed.tool_name is None:
        return Outcome(FAIL, "the streamed request made no tool call")
    if streamed.tool_name != whole.tool_name:
        return Outcome(FAIL, f"streamed call {streamed.tool_name!r} vs {whole.tool_name!r}")
    ok_s, args_s = _args(streamed)
    ok_w, args_w = _args(whole)
    if not ok_w:
        return Outcome(NOT_MEASURED, "the non-streamed call's arguments are not JSON")
    if not ok_s:
        return Outcome(FAIL, "streamed argument fragments do not join into JSON")
    if args_s == args_w:
        return Outcome(PASS, "streamed fragments join into the non-streamed JSON")
    # Values may part at a near-tie between two requests; the shape may not.
    keys_s = sorted(args_s) if isinstance(args_s, dict) else None
    keys_w = sorted(args_w) if isinstance(args_w, dict) else None
    if keys_s == keys_w:
        return Outcome(PASS, "same JSON keys streamed and not (a value differs)")
    return Outcome(FAIL, f"streamed arguments have keys {keys_s}, non-streamed {keys_w}")


_CHECKERS = {
    "max_tokens": check_max_tokens,
    "max_tokens_kept": check_max_tokens_kept,
    "stop": check_stop,
    "temperature_0": check_temperature_0,
    "temperature_1": check_temperature_1,
    "logprobs": check_logprobs,
    "usage": check_usage,
    "context": check_context,
    "tool_stream": check_tool_stream,
}


def evaluate(
    own: Observations,
    reference: Observations | None,
    settings: Settings,
    declared_missing: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Outcome]:
    """Every check's outcome for one endpoint. `reference` is None for the reference itself.

    `declared_missing` holds capability features the endpoint declared it lacks (`logprobs`,
    `tools`): checks that need them are not measured rather than failed."""
    out: dict[str, Outcome] = {}
    for name in CHECKS:
        if name == "logprobs" and "logprobs" in declared_missing:
            out[name] = Outcome(NOT_MEASURED, "declared without logprobs")
        elif name == "tool_stream" and "tools" in declared_missing:
            out[name] = Outcome(NOT_MEASURED, "declared without tools")
        else:
            out[name] = _CHECKERS[name](own, reference, settings)
    return out


# --------------------------------------------------------------------------------------------
# The record an endpoint carries (snapshot: EndpointInfo.conformance) and the verdict gate


def record(
    outcomes: dict[str, Outcome], cost: dict[str, int], settings: Settings
) -> dict[str, Any]:
    """The JSON-able conformance record of one endpoint."""
    return {
        "checks": {name: o.to_dict() for name, o in outcomes.items()},
        "requests": int(cost.get("requests", 0)),
        "prompt_tokens": int(cost.get("prompt_tokens", 0)),
        "completion_tokens": int(cost.get("completion_tokens", 0)),
        "settings": settings.to_dict(),
    }


def cost_of(obs: Observations) -> dict[str, int]:
    """Requests and provider-billed tokens the observations cost (unbilled ones count 0)."""
    every = [o for runs in obs.values() for o in runs]
    return {
        "requests": len(every),
        "prompt_tokens": sum(o.prompt_tokens or 0 for o in every),
        "completion_tokens": sum(o.completion_tokens or 0 for o in every),
    }


def statuses(entry: dict[str, Any] | None) -> dict[str, str]:
    """check name -> status from a record (empty for a missing or malformed one)."""
    checks = (entry or {}).get("checks")
    if not isinstance(checks, dict):
        return {}
    return {
        str(k): str(v.get("status", NOT_MEASURED)) for k, v in checks.items() if isinstance(v, dict)
    }


def failed_against_reference(
    entry: dict[str, Any] | None, reference: dict[str, Any] | None
) -> list[str]:
    """Checks this endpoint fails that the reference passes (all its failures when the
    reference was not checked), in CHECKS order."""
    mine = statuses(entry)
    theirs = statuses(reference)
    failed = [n for n, st in mine.items() if st == FAIL and theirs.get(n, PASS) == PASS]
    order = {n: i for i, n in enumerate(CHECKS)}
    return sorted(failed, key=lambda n: order.get(n, len(order)))


def score_entry(entry: dict[str, Any] | None, reference: dict[str, Any] | None) -> dict[str, Any]:
    """What an endpoint's score record carries: its checks, the cost, and the checks it fails
    that the reference passes (`failed`). Empty when the endpoint was not checked."""
    if not entry:
        return {}
    out = {k: v for k, v in entry.items() if k != "settings"}
    out["failed"] = failed_against_reference(entry, reference)
    return out


def conformance_gates(conformance: dict[str, Any] | None) -> list[Gate]:
    """An endpoint failing a check the reference passes is never `faithful`: one gate per failed
    check, each capping the verdict at `degraded` and saying which check failed and why."""
    failed = list((conformance or {}).get("failed") or [])
    checks = (conformance or {}).get("checks") or {}
    gates = []
    for name in failed:
        why = (checks.get(name) or {}).get("reason", "")
        words = FAILURE_WORDS.get(name, name)
        reason = f"{words} ({name}: {why})" if why else f"{words} ({name})"
        gates.append(Gate(reason, at_most=DEGRADED))
    return gates


def gate_on_conformance(
    verdict: Verdict, conformance: dict[str, Any] | None
) -> tuple[Verdict, list[str]]:
    """The verdict after the conformance gates alone (the reference keeps its own)."""
    return gated_verdict(verdict, conformance_gates(conformance))


def summary_line(conformance: dict[str, Any] | None) -> str:
    """One line for a pane footer or a table cell: `9/9 pass` or `fail: stop, usage`."""
    sts = statuses(conformance)
    if not sts:
        return "not checked"
    failed = list((conformance or {}).get("failed") or [])
    fails = failed or [n for n, st in sts.items() if st == FAIL]
    passed = sum(1 for st in sts.values() if st == PASS)
    unmeasured = sum(1 for st in sts.values() if st == NOT_MEASURED)
    tail = f", {unmeasured} not measured" if unmeasured else ""
    if fails:
        return "fail: " + ", ".join(SHORT.get(n, n) for n in fails) + tail
    return f"{passed}/{len(sts)} pass{tail}"
