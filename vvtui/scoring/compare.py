"""One candidate answer against the reference's answer to the same probe (and sample).

`ResultFacts` holds what can be known about a single result (its check outcomes, tokens,
leakage, JSON validity), computed once per result. `compare_pair` puts two of them side by side:
alignment with character spans for highlighting, KL/top-1 on the shared prefix, tool-call
agreement, and the damage parts of docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from vvtui.model import MARK_RANK, PENDING, ErrorInfo, ErrorKind, Mark, Probe, Result, Tokens
from vvtui.scoring import damage as dmg
from vvtui.scoring import tools as toolcalls
from vvtui.scoring.alignment import Alignment, align_ids, match_stats
from vvtui.scoring.checks import CheckOutcome, run_checks, script_expected
from vvtui.scoring.logprobs import KLJob, LogprobStats, ids_of, run_kl_jobs
from vvtui.scoring.script import foreign_ratio
from vvtui.scoring.tokenize import (
    PROVIDER,
    TokenSeq,
    default_encoding_name,
    provider_tokens,
    tiktoken_tokens,
)
from vvtui.scoring.truncation import cut_at
from vvtui.scoring.validation import parse_json

# Errors that say nothing about the endpoint's fidelity: a declared missing feature, the user's
# cancel, a vvtui bug. The probe is "not measured" for that endpoint (docs/scoring.md).
EXCLUDED_ERRORS: frozenset[ErrorKind] = frozenset(
    {"unsupported", "cancelled", "config", "internal"}
)


def is_sampled(probe: Probe) -> bool:
    """Probes compared as distributions (MMD) rather than answer by answer."""
    return probe.kind == "sampled" or (probe.n_samples > 1 and probe.temperature > 0)


def expected_script(probe: Probe) -> str | list[str] | None:
    for check in probe.checks:
        if check.type == "script":
            try:
                return script_expected(check.spec, probe)
            except ValueError:
                break
    if probe.language.strip().lower() == "any":
        return None
    return probe.language


def wants_json(probe: Probe) -> bool:
    fmt = probe.response_format or {}
    return (
        probe.kind == "json"
        or fmt.get("type") in ("json_object", "json_schema")
        or any(c.type in ("json", "json_schema") for c in probe.checks)
    )


class ResultFacts:
    """Everything about one result that does not depend on another endpoint (lazy, cached)."""

    __slots__ = (
        "_ids",
        "_json_ok",
        "_leak",
        "_provider",
        "_tiktoken",
        "checks",
        "probe",
        "result",
    )

    def __init__(self, probe: Probe, result: Result) -> None:
        self.probe = probe
        self.result = result
        self.checks: list[CheckOutcome] = run_checks(probe, result)
        self._provider: TokenSeq | Literal[False] | None = False  # False: not computed yet
        self._tiktoken: dict[str, TokenSeq] = {}
        self._leak: float | Literal[False] | None = False
        self._json_ok: bool | None = None
        self._ids: dict[str, np.ndarray] = {}

    @property
    def ok(self) -> bool:
        return self.result.error is None

    @property
    def excluded(self) -> bool:
        err = self.result.error
        return err is not None and err.kind in EXCLUDED_ERRORS

    @property
    def all_passed(self) -> bool | None:
        if not self.checks:
            return None
        return all(c.passed for c in self.checks)

    def provider(self) -> TokenSeq | None:
        if self._provider is False:
            self._provider = provider_tokens(self.result)
        return self._provider

    def tiktoken(self, encoding: str) -> TokenSeq:
        seq = self._tiktoken.get(encoding)
        if seq is None:
            seq = tiktoken_tokens(self.result.text, encoding)
            self._tiktoken[encoding] = seq
        return seq

    def ids(self, mode: str, vocab: dict[Hashable, int]) -> np.ndarray:
        """Token ids in the scorer's shared vocabulary. mode: "bytes" or "strings" (provider
        tokens, identity by bytes or by string) or a tiktoken encoding name."""
        found = self._ids.get(mode)
        if found is None:
            if mode in ("bytes", "strings"):
                seq = self.provider()
                assert seq is not None
                keys: Sequence[Hashable] = seq.tokens
                if mode == "bytes":
                    # Token strings that spell the text exactly encode back to their bytes.
                    keys = seq.keys or [t.encode("utf-8") for t in seq.tokens]
            else:
                keys = self.tiktoken(mode).keys
            found = ids_of(keys, vocab)
            self._ids[mode] = found
        return found

    def leak(self) -> float | None:
        if self._leak is False:
            expected = expected_script(self.probe)
            self._leak = None if expected is None else foreign_ratio(self.result.text, expected)
        return self._leak

    def json_ok(self) -> bool:
        if self._json_ok is None:
            self._json_ok = parse_json(self.result.text, allow_fences=True)[1] is None
        return self._json_ok


@dataclass(slots=True)
class HighlightSpan:
    """An alignment block in characters: reference text [ref_start, ref_end) against candidate
    text [cand_start, cand_end). Neighbouring blocks may share one character when a token ends
    mid-character."""

    tag: str
    ref_start: int
    ref_end: int
    cand_start: int
    cand_end: int

    def to_list(self) -> list[object]:
        return [self.tag, self.ref_start, self.ref_end, self.cand_start, self.cand_end]


@dataclass(slots=True)
class ProbeComparison:
    """A candidate's answer to one probe/sample against the reference's, for the UI and reports."""

    endpoint: str
    probe_id: str
    sample: int
    mark: Mark
    tokenizer: str | None = None
    ref_tokens: TokenSeq | None = None
    cand_tokens: TokenSeq | None = None
    first_divergence: int | None = None
    # The reference's logprob gap (nats) between its token and the candidate's at the first
    # divergence, when both sides sent logprobs; below damage.TIE_MARGIN it is a near-tie.
    tie_margin: float | None = None
    agreement: float | None = None
    # The candidate's length in tokens when its answer was cut by the token limit where the
    # reference's stopped by itself, or stopped where the reference's text goes on
    # (vvtui.scoring.truncation); None when it was not.
    cut_at: int | None = None
    checks: list[CheckOutcome] = field(default_factory=list)
    ref_checks: list[CheckOutcome] = field(default_factory=list)
    kl: float | None = None
    top1: float | None = None
    kl_positions: int = 0
    kl_uncertain: int = 0
    logprobs: LogprobStats | None = None
    tool_match: str | None = None
    parts: dict[str, float | None] = field(default_factory=dict)
    damage: float | None = None
    error: ErrorInfo | None = None
    # Token ids of both answers; the alignment blocks are built from them on first use.
    ids: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    _alignment: Alignment | None = field(default=None, repr=False, compare=False)
    _spans: list[HighlightSpan] | None = field(default=None, repr=False, compare=False)

    @property
    def alignment(self) -> Alignment | None:
        """Alignment blocks against the reference (None when there is nothing to align).
        Built on first use: scoring needs only `agreement` and `first_divergence`."""
        if self._alignment is None and self.ids is not None:
            self._alignment = align_ids(*self.ids)
        return self._alignment

    @property
    def spans(self) -> list[HighlightSpan]:
        """Alignment blocks in characters of both texts, for highlighting (computed on first
        use: scoring itself never needs them)."""
        if self._spans is None:
            if self.alignment is None or self.ref_tokens is None or self.cand_tokens is None:
                self._spans = []
            else:
                self._spans = _highlight(self.alignment, self.ref_tokens, self.cand_tokens)
        return self._spans

    @property
    def cut_short(self) -> bool:
        """Cut before the reference's answer ended: content the reference gave is missing (an
        answer that ran on to the limit past the reference's end is cut, but not short)."""
        return self.cut_at is not None and self.ids is not None and self.cut_at < len(self.ids[0])

    @property
    def first_divergence_char(self) -> tuple[int, int] | None:
        """Character offsets of the first divergence in (reference text, candidate text)."""
        fd = self.first_divergence
        if fd is None or self.ref_tokens is None or self.cand_tokens is None:
            return None
        return self.ref_tokens.char_span(fd, fd)[0], self.cand_tokens.char_span(fd, fd)[0]

    def summary(self) -> dict[str, Any]:
        return {
            "mark": self.mark,
            "damage": self.damage,
            "agreement": self.agreement,
            "first_divergence": self.first_divergence,
            "cut_at": self.cut_at,
            "tie_margin": self.tie_margin,
            "checks_passed": sum(c.passed for c in self.checks),
            "checks_total": len(self.checks),
            "kl": self.kl,
            "top1": self.top1,
            "tokenizer": self.tokenizer,
            "tool_match": self.tool_match,
            "error": None if self.error is None else self.error.kind,
        }


# --------------------------------------------------------------------------------------------
# Tokenizer choice


def _common_prefix_len(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:  # invariant: a[:lo] == b[:lo], a[:hi+1] != b[:hi+1] somewhere
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def same_tokenizer(ref: TokenSeq, cand: TokenSeq) -> bool:
    """Do two provider tokenizations look like one tokenizer? Where the texts agree, the same
    model emits the same tokens, so token boundaries inside the common text prefix must match
    (a margin before the point where the texts part is ignored). Too little shared text to tell
    counts as the same."""
    if ref.tokens == cand.tokens:
        return True
    shared = _common_prefix_len(ref.text, cand.text) - 8
    if shared <= 0:
        return True
    ends_ref = [e for e in ref.head_ends() if e <= shared]
    ends_cand = [e for e in cand.head_ends() if e <= shared]
    cut = min(ends_ref[-1] if ends_ref else 0, ends_cand[-1] if ends_cand else 0)
    ends_ref = [e for e in ends_ref if e <= cut]
    ends_cand = [e for e in ends_cand if e <= cut]
    if len(ends_ref) < 4 and len(ends_cand) < 4:
        return True
    return ends_ref == ends_cand


def choose_tokens(
    ref: ResultFacts, cand: ResultFacts, encoding: str | None = None
) -> tuple[TokenSeq, TokenSeq, str]:
    """Token sequences to align and the identity mode, by the rule in docs/scoring.md: the
    providers' own tokens when both sides have them and they look like one tokenizer (identity
    by bytes when both sides have bytes, else by string); otherwise both texts re-tokenized with
    one tiktoken encoding (the mode is then the encoding's name)."""
    rp, cp = ref.provider(), cand.provider()
    if rp is not None and cp is not None and same_tokenizer(rp, cp):
        # Identity by string when both sides' strings spell their text exactly (the usual
        # case), else by bytes (strings with partial characters are lossy).
        return rp, cp, ("bytes" if rp.keys or cp.keys else "strings")
    name = default_encoding_name(encoding)
    return ref.tiktoken(name), cand.tiktoken(name), name


# --------------------------------------------------------------------------------------------
# Comparison


def _highlight(alignment: Alignment, ref: TokenSeq, cand: TokenSeq) -> list[HighlightSpan]:
    spans = []
    for op in alignment.ops:
        rs, re_ = ref.char_span(op.i1, op.i2)
        cs, ce = cand.char_span(op.j1, op.j2)
        spans.append(HighlightSpan(op.tag, rs, re_, cs, ce))
    return spans


def _tool_part(probe: Probe, ref: Result, cand: Result) -> tuple[float | None, str | None]:
    r_call, c_call = toolcalls.called(ref), toolcalls.called(cand)
    if not probe.tools and not r_call and not c_call:
        return None, None
    if r_call != c_call:
        return 1.0, "trigger_differs"
    if not r_call:
        return 0.0, "same"
    r_calls, c_calls = toolcalls.canonical_calls(ref), toolcalls.canonical_calls(cand)
    if sorted(n for n, _ in r_calls) != sorted(n for n, _ in c_calls):
        return 1.0, "name_differs"
    offered = toolcalls.offered_tools(probe)
    r_valid = all(toolcalls.call_problem(c, offered) is None for c in ref.tool_calls)
    c_valid = all(toolcalls.call_problem(c, offered) is None for c in cand.tool_calls)
    if r_valid and not c_valid:
        return 1.0, "invalid_arguments"
    if sorted(r_calls) != sorted(c_calls):
        return dmg.TOOL_ARGS_DIFFER, "arguments_differ"
    return 0.0, "same"


def tie_margin(ref: Tokens | None, cand: Tokens | None, fd: int | None) -> float | None:
    """The reference's logprob gap between its own token and the candidate's at the first
    divergence `fd` (provider tokens on both sides). None when it cannot be read: no logprobs, an
    answer that ended there, or the candidate's token not among the reference's alternatives
    (then the reference did not consider it at all: not a tie)."""
    if fd is None or ref is None or cand is None or ref.logprob is None or ref.top is None:
        return None
    if fd >= len(ref.text) or fd >= len(cand.text) or fd >= len(ref.top):
        return None
    chosen = ref.logprob[fd]
    if chosen is None or chosen <= -9000:
        return None
    other = cand.text[fd]
    for token, logprob in ref.top[fd]:
        if token == other and logprob > -9000:
            return max(0.0, chosen - logprob)
    return None


def pair_mark(comp: ProbeComparison, cand: ResultFacts, ref: ResultFacts | None) -> Mark:
    if not cand.ok:
        return "error"
    if cand.checks and not cand.all_passed:
        return "fail"
    if ref is None or not ref.ok:
        return "pass" if cand.checks else PENDING
    if (comp.agreement is not None and comp.agreement < 1.0) or comp.tool_match not in (
        None,
        "same",
    ):
        return "diverged"
    return "pass"


def compare_pair(
    probe: Probe,
    ref: ResultFacts | None,
    cand: ResultFacts,
    vocab: dict[Hashable, int],
    encoding: str | None = None,
    kl_jobs: list[PendingKL] | None = None,
) -> ProbeComparison:
    """Compare a candidate result with the reference's (None: the reference has not answered).

    `vocab` maps token identities to ints; sharing one per scorer keeps id arrays comparable.
    With `kl_jobs`, the logprob comparison is queued there instead of run; `finish_kl` runs
    the queue in one batch and completes the comparisons (damage included).
    """
    result = cand.result
    comp = ProbeComparison(result.endpoint, result.probe_id, result.sample, PENDING)
    comp.checks = cand.checks
    comp.error = result.error
    if ref is not None:
        comp.ref_checks = ref.checks
    if not cand.ok:
        comp.mark = "error"
        # A probe the reference itself could not answer (an engine that rejects a feature, a
        # shared outage) is no evidence against the candidate: both sides are unmeasured there,
        # as when the reference fails and the candidate answers.
        if not cand.excluded and (ref is None or ref.ok):
            comp.parts = {"errors": 1.0}
            comp.damage = 1.0
        return comp
    if ref is None or not ref.ok:
        comp.mark = pair_mark(comp, cand, ref)
        return comp

    ref_seq, cand_seq, mode = choose_tokens(ref, cand, encoding)
    a, b = ref.ids(mode, vocab), cand.ids(mode, vocab)
    matched, fd = match_stats(a, b)
    longest = max(len(a), len(b))
    comp.tokenizer = ref_seq.tokenizer
    comp.ref_tokens, comp.cand_tokens = ref_seq, cand_seq
    comp.ids = (a, b)
    comp.agreement = 1.0 if longest == 0 else matched / longest
    comp.first_divergence = fd

    rt, ct = ref.result.tokens, result.tokens
    if ref_seq.tokenizer == PROVIDER:
        comp.tie_margin = tie_margin(rt, ct, fd)
    near_tie = dmg.is_near_tie(comp.tie_margin)

    # How early the answers part (length-independent; see damage.token_damage); not measured
    # when they part at a near-tie of the reference's own. The request succeeded: errors are
    # measured, at 0, so their mean over probes is the error rate.
    parts: dict[str, float | None] = {
        "errors": 0.0,
        "tokens": None if near_tie else dmg.token_damage(fd),
    }
    # A cut counts wherever it happens: the token part reads only the opening window. An answer
    # that ran on to the limit after parting at one of the reference's own near-ties is one the
    # claimed model itself gives: not counted.
    comp.cut_at = cut_at(ref.result, result, len(a), len(b), len(b) if fd is None else fd)
    if comp.cut_at is not None and near_tie and comp.cut_at >= len(a):
        comp.cut_at = None
    parts["truncation"] = 0.0 if comp.cut_at is None else 1.0

    # KL / top-1 on the positions where both saw the same context: the shared prefix and the
    # first divergent position. Needs both sides' own top-k lists on one tokenizer.
    if (
        ref_seq.tokenizer == PROVIDER
        and rt is not None
        and ct is not None
        and rt.top is not None
        and ct.top is not None
    ):
        upto = min(len(a), len(b)) if fd is None else min(fd + 1, len(a), len(b))
        job = KLJob(
            ref.result.key,
            rt.top,
            result.key,
            ct.top,
            upto,
            # Same answer and same alternatives (a faithful endpoint's usual case): KL 0.
            identical=fd is None and rt.top == ct.top,
        )
        comp.parts = parts
        if kl_jobs is not None:
            kl_jobs.append(PendingKL(job, comp))
        else:
            run_kl_jobs([job], vocab)
            assert job.stats is not None
            _set_logprobs(comp, parts, job.stats)

    if probe.checks and not near_tie:
        differ = sum(rc.passed != cc.passed for rc, cc in zip(ref.checks, cand.checks, strict=True))
        parts["checks"] = differ / len(probe.checks)

    tool_part, comp.tool_match = _tool_part(probe, ref.result, result)
    parts["tools"] = tool_part

    if wants_json(probe):
        parts["json"] = 1.0 if (ref.json_ok() and not cand.json_ok()) else 0.0

    leak_c, leak_r = cand.leak(), ref.leak()
    if leak_c is not None and leak_r is not None:
        parts["leakage"] = dmg.leak_damage(leak_c, leak_r)

    comp.parts = parts
    comp.damage = dmg.combine(parts)
    comp.mark = pair_mark(comp, cand, ref)
    return comp


@dataclass(slots=True)
class PendingKL:
    job: KLJob
    comp: ProbeComparison


def _set_logprobs(
    comp: ProbeComparison, parts: dict[str, float | None], stats: LogprobStats
) -> None:
    if stats.positions:
        comp.kl = stats.kl_mean
        comp.top1 = stats.top1
        comp.kl_positions = stats.positions
        comp.kl_uncertain = stats.uncertain
        comp.logprobs = stats
        longest = stats.positions if comp.ids is None else max(map(len, comp.ids))
        parts["kl"] = dmg.kl_damage(dmg.kl_per_position(stats.kl_sum, stats.positions, longest))


def finish_kl(pending: list[PendingKL], vocab: dict[Hashable, int]) -> None:
    """Run queued logprob comparisons in one batch and complete their comparisons."""
    run_kl_jobs([p.job for p in pending], vocab)
    for p in pending:
        assert p.job.stats is not None
        _set_logprobs(p.comp, p.comp.parts, p.job.stats)
        p.comp.damage = dmg.combine(p.comp.parts)


def worst_mark(marks: list[Mark]) -> Mark:
    if not marks:
        return PENDING
    if PENDING in marks and all(m in (PENDING, "pass") for m in marks):
        return PENDING
    return max(marks, key=lambda m: MARK_RANK[m])
