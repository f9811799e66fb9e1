"""One candidate answer taken apart against the reference's, for a person: what the two
distributions were at the first divergence, the KL at each position of the shared prefix, every
check side by side, both sides' tool calls, and the damage parts with how they combine.

Everything here reads a `ProbeComparison` the Scorer already made (and the two results it
compared) and recomputes nothing that feeds a score: the UI shows these numbers, the score is
still `compare.py`'s. Pure functions over plain data (no Textual), like the rest of the core.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vvtui.model import Mark, Result, ToolCall
from vvtui.scoring import damage as dmg
from vvtui.scoring.checks import CheckOutcome
from vvtui.scoring.compare import ProbeComparison
from vvtui.scoring.logprobs import ABSENT_LOGPROB, kl_by_position
from vvtui.scoring.tokenize import PROVIDER

# What each damage part measures, in the words of docs/scoring.md (for a legend beside values).
PART_MEANINGS = {
    "errors": "1 when the request failed",
    "tokens": f"share of the opening {dmg.TOKEN_WINDOW} tokens after the first divergence",
    "checks": "share of checks whose verdict differs from the reference's",
    "kl": f"1 − exp(−KL per position / {dmg.KL_SCALE})",
    "tools": "tool call trigger, name or arguments differ",
    "json": "the reference's JSON parses, this one's does not",
    "leakage": "foreign-script letters above the reference's",
    "mmd": "sampled answers' distribution differs (MMD above the permutation null)",
    "truncation": "1 when the answer was cut short where the reference's went on",
}


@dataclass(frozen=True, slots=True)
class Alternative:
    """One entry of a side's top-k list at a position."""

    token: str
    prob: float
    # The token this side emitted there.
    chosen: bool


@dataclass(slots=True)
class DivergencePoint:
    """Both sides at the first token where the answers part."""

    position: int
    ref_token: str | None  # None: the reference's answer ended there
    cand_token: str | None
    ref_alternatives: list[Alternative] = field(default_factory=list)
    cand_alternatives: list[Alternative] = field(default_factory=list)
    # The probability the reference gave the candidate's token (None: not in its top-k).
    cand_token_under_ref: float | None = None
    # The reference's logprob gap between its token and the candidate's (nats), and whether it
    # was a near-tie: the tokens and checks parts were then not counted.
    margin: float | None = None
    near_tie: bool = False
    kl: float | None = None


@dataclass(slots=True)
class DamageBreakdown:
    """The parts of one answer's damage and the noisy-OR that combines them; for the probe, the
    mean over its samples and the reference's noise floor there."""

    parts: list[tuple[str, float | None]]
    combined: float | None
    probe_damage: float | None = None
    samples: int = 1
    noise_floor: float | None = None

    @property
    def measured(self) -> list[tuple[str, float]]:
        return [(name, value) for name, value in self.parts if value is not None]

    @property
    def excess(self) -> float | None:
        """The probe's damage above the reference's noise floor (what fidelity counts)."""
        if self.probe_damage is None:
            return None
        return max(0.0, self.probe_damage - (self.noise_floor or 0.0))


@dataclass(slots=True)
class CheckRow:
    type: str
    reference: CheckOutcome | None
    candidate: CheckOutcome | None

    @property
    def differs(self) -> bool:
        if self.reference is None or self.candidate is None:
            return False
        return self.reference.passed != self.candidate.passed


@dataclass(slots=True)
class Inspection:
    endpoint: str
    probe_id: str
    sample: int
    mark: Mark
    tokenizer: str | None
    first_divergence: int | None
    agreement: float | None
    divergence: DivergencePoint | None
    # KL at each compared position (shared prefix + the first divergent one); None where a side
    # listed nothing usable. Empty without logprobs on both sides.
    kl_positions: list[float | None]
    kl_mean: float | None
    top1: float | None
    checks: list[CheckRow]
    ref_tool_calls: list[ToolCall]
    cand_tool_calls: list[ToolCall]
    tool_match: str | None
    damage: DamageBreakdown
    # A sampled probe: its answers are compared as distributions (MMD), not token by token.
    sampled: bool = False


def _prob(logprob: float) -> float | None:
    if not math.isfinite(logprob) or logprob <= ABSENT_LOGPROB:
        return None
    return math.exp(min(0.0, logprob))


def alternatives(row: Sequence[tuple[str, float]], chosen: str | None) -> list[Alternative]:
    """A top-k row as probabilities, best first, the emitted token flagged."""
    out = []
    for token, logprob in row:
        p = _prob(logprob)
        if p is not None:
            out.append(Alternative(token, p, token == chosen))
    out.sort(key=lambda a: -a.prob)
    return out


def divergence_point(
    comp: ProbeComparison, ref: Result | None, cand: Result | None
) -> DivergencePoint | None:
    """Both sides at the comparison's first divergence: the tokens, and when both sent logprobs
    on the tokenizer the alignment used, each side's alternatives there."""
    fd = comp.first_divergence
    if fd is None or comp.ref_tokens is None or comp.cand_tokens is None:
        return None
    rt, ct = comp.ref_tokens.tokens, comp.cand_tokens.tokens
    point = DivergencePoint(
        position=fd,
        ref_token=rt[fd] if fd < len(rt) else None,
        cand_token=ct[fd] if fd < len(ct) else None,
        margin=comp.tie_margin,
        near_tie=dmg.is_near_tie(comp.tie_margin),
    )
    if comp.tokenizer != PROVIDER:
        return point  # re-tokenized text: the providers' top-k rows index other tokens
    r_top = ref.tokens.top if ref is not None and ref.tokens is not None else None
    c_top = cand.tokens.top if cand is not None and cand.tokens is not None else None
    if r_top is not None and fd < len(r_top):
        point.ref_alternatives = alternatives(r_top[fd], point.ref_token)
        for alt in point.ref_alternatives:
            if alt.token == point.cand_token:
                point.cand_token_under_ref = alt.prob
    if c_top is not None and fd < len(c_top):
        point.cand_alternatives = alternatives(c_top[fd], point.cand_token)
    return point


def damage_breakdown(
    parts: Mapping[str, float | None],
    summary: Mapping[str, Any] | None = None,
    noise_floor: float | None = None,
    samples: int = 1,
) -> DamageBreakdown:
    """The parts in the order of docs/scoring.md, their noisy-OR, and the probe's damage as the
    Scorer reported it (`summary`: its per-probe row; the mean over samples)."""
    ordered = [(name, parts[name]) for name in dmg.PARTS if name in parts]
    ordered += [(name, value) for name, value in parts.items() if name not in dmg.PARTS]
    probe_damage = None if summary is None else summary.get("damage")
    return DamageBreakdown(
        parts=ordered,
        combined=dmg.combine(parts),
        probe_damage=probe_damage if isinstance(probe_damage, (int, float)) else None,
        samples=samples,
        noise_floor=noise_floor,
    )


def check_rows(comp: ProbeComparison) -> list[CheckRow]:
    """Each check of the probe, the reference's outcome beside the candidate's."""
    n = max(len(comp.checks), len(comp.ref_checks))
    rows = []
    for i in range(n):
        ref = comp.ref_checks[i] if i < len(comp.ref_checks) else None
        cand = comp.checks[i] if i < len(comp.checks) else None
        either = cand or ref
        assert either is not None  # i < n: one side or the other has a check i
        rows.append(CheckRow(either.type, ref, cand))
    return rows


def kl_positions(
    comp: ProbeComparison, ref: Result | None, cand: Result | None
) -> list[float | None]:
    """KL at each position the Scorer compared: the shared prefix and the first divergent one."""
    if comp.tokenizer != PROVIDER or ref is None or cand is None:
        return []
    if ref.tokens is None or cand.tokens is None:
        return []
    r_top, c_top = ref.tokens.top, cand.tokens.top
    if r_top is None or c_top is None:
        return []
    fd = comp.first_divergence
    shortest = min(len(ref.tokens), len(cand.tokens))
    upto = shortest if fd is None else min(fd + 1, shortest)
    return kl_by_position(r_top, c_top, upto)


def inspect_comparison(
    comp: ProbeComparison,
    ref: Result | None,
    cand: Result,
    *,
    summary: Mapping[str, Any] | None = None,
    noise_floor: float | None = None,
    samples: int = 1,
    sampled: bool = False,
) -> Inspection:
    """Everything the divergence inspector shows for one answer, from the Scorer's comparison of
    it (`comp`), the two results it compared, and the Scorer's per-probe row (`summary`)."""
    by_position = kl_positions(comp, ref, cand)
    point = divergence_point(comp, ref, cand)
    if point is not None and point.position < len(by_position):
        point.kl = by_position[point.position]
    return Inspection(
        endpoint=comp.endpoint,
        probe_id=comp.probe_id,
        sample=comp.sample,
        mark=comp.mark,
        tokenizer=comp.tokenizer,
        first_divergence=comp.first_divergence,
        agreement=comp.agreement,
        divergence=point,
        kl_positions=by_position,
        kl_mean=comp.kl,
        top1=comp.top1,
        checks=check_rows(comp),
        ref_tool_calls=list(ref.tool_calls) if ref is not None else [],
        cand_tool_calls=list(cand.tool_calls),
        tool_match=comp.tool_match,
        damage=damage_breakdown(_probe_parts(comp, summary), summary, noise_floor, samples),
        sampled=sampled,
    )


def _probe_parts(
    comp: ProbeComparison, summary: Mapping[str, Any] | None
) -> Mapping[str, float | None]:
    """The parts that made the damage: the pair's, or for a sampled probe (whose pairs carry no
    damage: its samples are compared as distributions) the probe's, MMD included."""
    if comp.damage is None and summary is not None:
        parts = summary.get("parts")
        if isinstance(parts, dict) and parts:
            return parts
    return comp.parts
