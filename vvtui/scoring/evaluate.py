"""One endpoint on one probe, evaluated: pure functions from the answers' facts to a `ProbeEval`.

Three strategies: a deterministic probe's sample-by-sample comparisons with the reference
(`pair_comparisons` then `aggregate_pairs`), a sampled probe's distributions against each other
(`evaluate_sampled`), and the reference's own answers and noise floor (`evaluate_reference`).
Nothing here keeps state; the vocabulary shared by logprob comparisons is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

from vvtui.features import probe_features
from vvtui.model import PENDING, Mark, Probe
from vvtui.scoring import damage as dmg
from vvtui.scoring import tools as toolcalls
from vvtui.scoring.compare import (
    PendingKL,
    ProbeComparison,
    ResultFacts,
    compare_pair,
    is_sampled,
    wants_json,
    worst_mark,
)
from vvtui.scoring.metrics import ProbeEval
from vvtui.scoring.mmd import PERMUTATIONS, mmd_test
from vvtui.scoring.truncation import length_excess
from vvtui.scoring.verdict_gates import OTHER

# Permutations for a sampled probe's live MMD (the final report uses mmd.PERMUTATIONS).
LIVE_PERMUTATIONS = 200
# A sampled probe "fails" when its pass rate is this far below the reference's.
SAMPLED_FAIL_GAP = 0.2
MMD_ALPHA = 0.01

Vocab = dict[Hashable, int]


def add_logprobs(ev: ProbeEval, comp: ProbeComparison) -> None:
    stats = comp.logprobs
    if stats is not None and stats.positions:
        ev.kl_sum += stats.kl_sum
        ev.kl_positions += stats.positions
        ev.top1_agree += stats.top1_agree
        ev.kl_uncertain += stats.uncertain


def refused(probe: Probe, cand: ResultFacts, ref: ResultFacts | None) -> set[str]:
    """The features a candidate refused on a probe the reference answered (empty: no gap)."""
    err = cand.result.error
    if err is None or err.kind != "unsupported" or ref is None or not ref.ok:
        return set()
    return probe_features(probe) or {OTHER}


def pair_comparisons(
    probe: Probe,
    cand: dict[int, ResultFacts],
    ref: dict[int, ResultFacts],
    vocab: Vocab,
    encoding: str | None,
    pending: list[PendingKL],
) -> dict[int, ProbeComparison]:
    """Each candidate sample against the reference's answer to the same sample (logprob KL is
    left in `pending` for `compare.finish_kl` to do in one batch)."""
    return {
        s: compare_pair(probe, ref.get(s), cand[s], vocab, encoding, pending) for s in sorted(cand)
    }


def aggregate_pairs(
    probe: Probe,
    comps: dict[int, ProbeComparison],
    cand: dict[int, ResultFacts],
    ref: dict[int, ResultFacts],
) -> ProbeEval | None:
    """A deterministic probe's evaluation from its finished per-sample comparisons."""
    if not comps:
        return None
    ev = ProbeEval(sampled=False)
    offered = toolcalls.offered_tools(probe)
    damages: list[float] = []
    marks: list[Mark] = []
    tokenizers: set[str] = set()
    part_sums: dict[str, list[float]] = {}
    gap: set[str] = set()
    for s, comp in comps.items():
        cf = cand[s]
        rf = ref.get(s)
        ev.comparisons[s] = comp
        marks.append(comp.mark)
        if cf.excluded:
            gap |= refused(probe, cf, rf)
            continue
        ev.cut = ev.cut or comp.cut_short
        if comp.damage is not None:
            damages.append(comp.damage)
            for key, value in comp.parts.items():
                if value is not None:
                    part_sums.setdefault(key, []).append(value)
        ev.checks_passed += sum(c.passed for c in cf.checks)
        ev.checks_total += len(cf.checks)
        if rf is not None and rf.ok and rf.all_passed:
            ev.acc_den += 1
            ev.acc_num += int(bool(cf.all_passed))
        if probe.tools:
            # Trigger counts need the reference's answer; schema counts do not.
            ref_result = rf.result if (rf is not None and rf.ok) else None
            ev.tool.add(toolcalls.confusion(ref_result, cf.result, offered))
        add_logprobs(ev, comp)
        if comp.agreement is not None:
            ev.agree_sum += comp.agreement
            ev.agree_n += 1
        if comp.tokenizer:
            tokenizers.add(comp.tokenizer)
        leak = cf.leak() if cf.ok else None
        if leak is not None:
            ev.leak_sum += leak
            ev.leak_n += 1
    if damages:
        ev.damage = math.fsum(damages) / len(damages)
        # Parts averaged over the measured samples, like the damage.
        ev.parts = {k: math.fsum(v) / len(damages) for k, v in part_sums.items()}
    ev.gap = frozenset(gap) if gap else None
    missing = max(0, probe.n_samples - len(comps))
    ev.mark = worst_mark(marks + [PENDING] * missing)
    ev.tokenizers = frozenset(tokenizers)
    return ev


def evaluate_sampled(
    ep: str,
    probe: Probe,
    ref: dict[int, ResultFacts],
    cand: dict[int, ResultFacts],
    permutations: int,
) -> ProbeEval:
    """A sampled probe: the candidate's answers as a distribution against the reference's
    (two-sample MMD, pass rates, tool-call and JSON rates), seeded by endpoint and probe."""
    ev = ProbeEval(sampled=True)
    offered = toolcalls.offered_tools(probe)
    facts_c = [cand[s] for s in sorted(cand)]
    facts_r = [ref[s] for s in sorted(ref)]
    ok_c = [f for f in facts_c if f.ok]
    err_c = [f for f in facts_c if not f.ok and not f.excluded]
    ok_r = [f for f in facts_r if f.ok]
    counted = ok_c + err_c
    if ok_r:
        gap = set().union(*(refused(probe, f, ok_r[0]) for f in facts_c))
        ev.gap = frozenset(gap) if gap else None
    for f in counted:
        ev.checks_passed += sum(c.passed for c in f.checks)
        ev.checks_total += len(f.checks)
    for f in ok_c:
        leak = f.leak()
        if leak is not None:
            ev.leak_sum += leak
            ev.leak_n += 1
    if probe.tools:
        by_sample = {f.result.sample: f for f in facts_r}
        for f in counted:
            rf = by_sample.get(f.result.sample)
            ref_result = rf.result if (rf is not None and rf.ok) else None
            ev.tool.add(toolcalls.confusion(ref_result, f.result, offered))

    def pass_rate(group: list[ResultFacts]) -> float | None:
        if not group or not probe.checks:
            return None
        return sum(bool(f.all_passed) for f in group) / len(group)

    rate_c, rate_r = pass_rate(counted), pass_rate(ok_r)
    if rate_r is not None and rate_r >= 0.5:
        ev.acc_den = 1
        ev.acc_num = int(rate_c is not None and rate_c >= 0.5)

    parts: dict[str, float | None] = {}
    if counted:
        parts["errors"] = len(err_c) / len(counted)
    # While a run is live the two-sample test waits until both sides are complete (it would
    # otherwise be redone per sample); the final report always runs it.
    complete = len(cand) >= probe.n_samples and len(ref) >= probe.n_samples
    if ok_c and ok_r:
        if complete or permutations >= PERMUTATIONS:
            ev.mmd = mmd_test(
                [([f.result.text for f in ok_r], [f.result.text for f in ok_c])],
                permutations=permutations,
                seed=dmg.seed_for("mmd", ep, probe.id),
            )
        if ev.mmd is not None:
            parts["mmd"] = dmg.mmd_damage(ev.mmd.effect, ev.mmd.effect_q95)
        if probe.checks:
            diffs = []
            for k in range(len(probe.checks)):
                rc = sum(f.checks[k].passed for f in ok_r) / len(ok_r)
                cc = sum(f.checks[k].passed for f in ok_c) / len(ok_c)
                diffs.append(abs(rc - cc))
            parts["checks"] = sum(diffs) / len(diffs)
        called_r = sum(toolcalls.called(f.result) for f in ok_r) / len(ok_r)
        called_c = sum(toolcalls.called(f.result) for f in ok_c) / len(ok_c)
        if probe.tools or called_r or called_c:
            parts["tools"] = abs(called_r - called_c)
        if wants_json(probe):
            valid_r = sum(f.json_ok() for f in ok_r) / len(ok_r)
            valid_c = sum(f.json_ok() for f in ok_c) / len(ok_c)
            parts["json"] = max(0.0, valid_r - valid_c)
        # More samples hitting the token limit than the reference's: answers cut short.
        parts["truncation"] = length_excess([f.result for f in ok_c], [f.result for f in ok_r])
        leaks_r = [x for f in ok_r if (x := f.leak()) is not None]
        if ev.leak_n and leaks_r:
            mean_r = sum(leaks_r) / len(leaks_r)
            parts["leakage"] = dmg.leak_damage(ev.leak_sum / ev.leak_n, mean_r)
        ev.parts = parts
        ev.damage = dmg.combine(parts)
    elif counted and not ok_c:
        ev.parts = {"errors": 1.0}
        ev.damage = 1.0

    if not facts_c:
        ev.mark = PENDING
    elif err_c or not ok_c:
        ev.mark = "error"
    elif rate_c is not None and rate_c < (1.0 if rate_r is None else rate_r) - SAMPLED_FAIL_GAP:
        ev.mark = "fail"
    elif ev.mmd is not None and ev.mmd.p_value < MMD_ALPHA:
        ev.mark = "diverged"
    elif not complete:
        ev.mark = PENDING
    else:
        ev.mark = "pass"
    return ev


def evaluate_reference(
    probe: Probe,
    answers: dict[tuple[int, int], ResultFacts],
    vocab: Vocab,
    encoding: str | None,
) -> ProbeEval | None:
    """The reference on a probe, from all its answers by (sample, repeat): its marks and counts
    from the main answers, and on a deterministic probe its noise floor (each repeat against the
    main answer to the same sample)."""
    main = {s: f for (s, rep), f in answers.items() if rep == 0}
    if not main:
        return None
    ev = ProbeEval(sampled=is_sampled(probe))
    offered = toolcalls.offered_tools(probe)
    marks: list[Mark] = []
    for s in sorted(main):
        f = main[s]
        if not f.ok:
            marks.append("error")
        elif f.checks and not f.all_passed:
            marks.append("fail")
        else:
            marks.append("pass")
        if f.excluded:
            continue
        ev.checks_passed += sum(c.passed for c in f.checks)
        ev.checks_total += len(f.checks)
        if probe.tools:
            ev.tool.add(toolcalls.confusion(None, f.result, offered))
        leak = f.leak() if f.ok else None
        if leak is not None:
            ev.leak_sum += leak
            ev.leak_n += 1
    ev.mark = worst_mark(marks + [PENDING] * max(0, probe.n_samples - len(main)))
    if ev.sampled:
        return ev
    floors: list[float] = []
    tokenizers: set[str] = set()
    for (s, rep), rf in sorted(answers.items()):
        if rep == 0 or s not in main:
            continue
        mf = main[s]
        if not mf.ok or not rf.ok:
            continue
        comp = compare_pair(probe, mf, rf, vocab, encoding)
        if comp.damage is not None:
            floors.append(comp.damage)
        if comp.agreement is not None:
            ev.agree_sum += comp.agreement
            ev.agree_n += 1
        add_logprobs(ev, comp)
        if comp.tokenizer:
            tokenizers.add(comp.tokenizer)
    ev.floor = math.fsum(floors) / len(floors) if floors else None
    ev.tokenizers = frozenset(tokenizers)
    return ev
