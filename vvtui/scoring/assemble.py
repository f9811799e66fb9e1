"""Endpoint scores and the final report, assembled from the scorer's bookkeeping.

Live scores (`live_score`) read the running sums: a normal-approximation interval, or the
confidence sequence of an --until-decided run. The final report (`report`) re-sums given
evaluations exactly in suite order and adds the seeded paired bootstrap, the joint MMD per
endpoint and, for --until-decided runs, the decision record. Formulas: docs/scoring.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from vvtui.scoring import conformance
from vvtui.scoring import damage as dmg
from vvtui.scoring import decide as stopping
from vvtui.scoring.metrics import ProbeEval, fill_metrics
from vvtui.scoring.mmd import PERMUTATIONS, mmd_test
from vvtui.scoring.perf import percentile, result_cost
from vvtui.scoring.report import REPORT_VERSION, EndpointScore, ScoreReport
from vvtui.scoring.tally import Ledger, Tally
from vvtui.scoring.tokenize import PROVIDER
from vvtui.scoring.verdict_gates import gated_verdict, gates_for

Sequence = tuple[list[str], list[float], list[float]]


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


def base_score(book: Ledger, name: str, tally: Tally) -> EndpointScore:
    """Everything of an endpoint's score but fidelity, its interval and verdict: the table's
    metrics (metrics.METRICS), the parts, tool calls, refusals, latency and cost."""
    perf = book.perf[name]
    is_ref = name == book.reference
    sums = tally.sums
    score = EndpointScore(name=name, reference=is_ref)
    score.n_probes = tally.n if not is_ref else len(book.evals[name])
    score.n_results = perf.results
    score.parts = {k: tally.part_sum[k] / tally.part_n[k] for k in dmg.PARTS if tally.part_n[k] > 0}
    fill_metrics(score, sums, reference=is_ref)  # the pooled counts below are read back from score
    if not is_ref:
        # Precision and recall of tool triggering are against the reference's: none for it.
        score.tool_precision = tally.tool.precision
        score.tool_recall = tally.tool.recall
        score.tool_f1 = tally.tool.f1
    score.schema_accuracy = tally.tool.schema_accuracy
    score.tool_triggered = tally.tool.triggered
    score.tool_schema_ok = tally.tool.schema_ok
    score.ttft_p50 = percentile(perf.ttft, 0.5)
    score.ttft_p90 = percentile(perf.ttft, 0.9)
    score.tps_p50 = percentile(perf.tps, 0.5)
    score.tps_p90 = percentile(perf.tps, 0.9)
    score.cost_usd = perf.total_cost()
    if score.cost_usd is not None and score.checks_passed > 0:
        score.cost_per_pass = score.cost_usd / score.checks_passed
    score.estimated_usage = bool(perf.estimated)
    score.errors = perf.error_count
    score.errors_by_kind = dict(sorted(perf.errors.items()))
    if not is_ref:
        score.refused_probes = tally.refused
        score.gaps = {k: v for k, v in sorted(tally.gaps.items()) if v > 0}
    score.measured = {
        "tokens": tally.part_n["tokens"] > 0 or (is_ref and sums["agree_n"] > 0),
        "checks": score.checks_total > 0,
        "logprobs": score.kl_positions > 0,
        "tools": tally.tool.compared > 0 or tally.tool.triggered > 0,
        "json": tally.part_n["json"] > 0,
        "leakage": sums["leak_n"] > 0,
        "mmd": tally.part_n["mmd"] > 0,
        "noise_floor": any(v is not None for v in book.floor.values()),
        "latency": bool(perf.ttft),
        "cost": perf.priced,
    }
    score.conformance = _conformance(book, name)
    return score


def _conformance(book: Ledger, name: str) -> dict[str, Any]:
    info = book.endpoints.get(name)
    ref = book.endpoints.get(book.reference or "")
    against = None if ref is None or name == book.reference else ref.conformance
    return conformance.score_entry(info.conformance if info else None, against)


def fill_reference(book: Ledger, score: EndpointScore) -> None:
    score.verdict = "reference"
    if book.reference_answered():
        # 100 over the probes it answered; a probe it failed scores nothing, not 100.
        score.fidelity = score.ci_low = score.ci_high = 100.0
    floors = [v for v in book.floor.values() if v is not None]
    score.noise_floor = math.fsum(floors) / len(floors) if floors else None
    score.damage = score.noise_floor


def live_fidelity(book: Ledger, name: str) -> float | None:
    """The live fidelity of an endpoint from its running sums (None before any damage)."""
    if name == book.reference:
        return 100.0 if book.reference_answered() else None
    tally = book.tallies[name]
    if tally.n <= 0:
        return None
    return dmg.fidelity(_clip01(tally.sum_d / tally.n), tally.floor_mean())


def live_score(
    book: Ledger, name: str, decision: Callable[[], stopping.Decision] | None
) -> EndpointScore:
    """An endpoint's score from running sums; the interval is a normal approximation, or the
    confidence sequence `decision` gives for an --until-decided run."""
    tally = book.tallies[name]
    score = base_score(book, name, tally)
    if name == book.reference:
        fill_reference(book, score)
    elif tally.n > 0:
        floor = tally.floor_mean()
        mean_d = _clip01(tally.sum_d / tally.n)
        score.damage = mean_d
        score.noise_floor = floor
        score.fidelity = dmg.fidelity(mean_d, floor)
        interval = dmg.normal_interval(tally.n, tally.sum_d, tally.sum_d2, floor)
        if interval is not None:
            score.ci_low, score.ci_high = interval
        score.verdict = dmg.verdict(score.ci_low, score.ci_high, tally.n)
        if decision is not None:
            # Looked at after every probe: only the anytime-valid interval may be shown.
            decided = decision()
            score.ci_low, score.ci_high = decided.low, decided.high
            score.verdict = decided.verdict
    score.verdict, score.verdict_reasons = gated_verdict(score.verdict, gates_for(score))
    mmd = [ev.mmd for ev in book.evals[name].values() if ev.mmd is not None]
    if mmd and name != book.reference:
        # Live: Bonferroni-adjusted smallest per-probe p-value (the joint test runs at the end).
        score.mmd_p = min(1.0, min(m.p_value for m in mmd) * len(mmd))
        score.mmd_probes = len(mmd)
    if score.answered_nothing:
        score.mark_no_answers()
    return score


def sequence(
    book: Ledger,
    record: stopping.StoppingRecord | None,
    per: dict[str, ProbeEval],
    floors: dict[str, float | None],
    prefix: int | None = None,
) -> Sequence:
    """An endpoint's measured probes in the order they were sent (suite order without a
    stopping record), with damage and floor by the rule of `final_fidelity`."""
    if record is not None and record.order:
        order = [pid for pid in record.order if pid in book.order]
    else:
        order = book.suite_order()
    if prefix is not None:
        order = order[:prefix]
    pids, damage, raw = [], [], []
    for pid in order:
        ev = per.get(pid)
        if ev is None or ev.damage is None:
            continue
        pids.append(pid)
        damage.append(ev.damage)
        raw.append((floors.get(pid), ev.sampled))
    measured = [f for f, sampled in raw if f is not None and not sampled]
    det_mean = math.fsum(measured) / len(measured) if measured else 0.0
    floor = [0.0 if sampled else (det_mean if f is None else f) for f, sampled in raw]
    return pids, damage, floor


def verdict_cost(book: Ledger, name: str, probes: list[str] | None) -> stopping.VerdictCost:
    """Requests, tokens and USD of `name`'s own answers to `probes` (all when None)."""
    info = book.endpoints.get(name)
    price = info.price if info is not None else None
    lines = []
    for (ep, pid), slot in book.results.items():
        if ep != name:
            continue
        for result in slot.values():
            usd, _ = result_cost(result, price, book.probes.get(pid))
            lines.append(stopping.CostLine(pid, result.input_tokens, result.output_tokens, usd))
    return stopping.verdict_cost(lines, probes)


def report(
    book: Ledger,
    final_evals: dict[str, dict[str, ProbeEval]],
    record: stopping.StoppingRecord | None,
) -> ScoreReport:
    """The final report from each endpoint's final evaluations (by probe): exact sums in suite
    order, bootstrap interval, joint MMD, verdict gates and the per-probe rows."""
    pids = book.suite_order()
    ref = book.reference
    floors = {pid: book.floor.get(pid) for pid in pids}
    out = ScoreReport(version=REPORT_VERSION)
    tokenizers: set[str] = set()
    for name in book.endpoints:
        per = final_evals[name]
        tally = Tally()
        for pid in pids:
            ev = per.get(pid)
            if ev is not None:
                tally.apply(ev, None if name == ref else floors[pid], +1)
                tokenizers |= ev.tokenizers
        score = base_score(book, name, tally)
        score.final = True
        if name == ref:
            fill_reference(book, score)
        else:
            final_fidelity(score, per, floors, pids)
            joint_mmd(book, score, name, per, pids)
            if record is not None:
                out.decisions[name] = until_decided(book, record, score, name, per, floors)
            score.verdict, score.verdict_reasons = gated_verdict(score.verdict, gates_for(score))
        if score.answered_nothing:
            score.mark_no_answers()
        out.endpoints[name] = score
    for pid in pids:
        row = {
            name: final_evals[name][pid].summary()
            for name in book.endpoints
            if pid in final_evals[name]
        }
        if row:
            out.probes[pid] = row
    out.meta = meta(book.reference, record, tokenizers)
    return out


def final_fidelity(
    score: EndpointScore,
    per: dict[str, ProbeEval],
    floors: dict[str, float | None],
    pids: list[str],
) -> None:
    damage: list[float] = []
    floor_raw: list[float | None] = []
    sampled: list[bool] = []
    for pid in pids:
        ev = per.get(pid)
        if ev is None or ev.damage is None:
            continue
        damage.append(ev.damage)
        floor_raw.append(floors[pid])
        sampled.append(ev.sampled)
    if not damage:
        return
    measured = [f for f, s in zip(floor_raw, sampled, strict=True) if f is not None and not s]
    det_mean = math.fsum(measured) / len(measured) if measured else 0.0
    floor = [
        0.0 if s else (f if f is not None else det_mean)
        for f, s in zip(floor_raw, sampled, strict=True)
    ]
    d_mean = math.fsum(damage) / len(damage)
    f_mean = math.fsum(floor) / len(floor)
    score.damage = d_mean
    score.noise_floor = f_mean
    score.fidelity = dmg.fidelity(d_mean, f_mean)
    interval = dmg.bootstrap_fidelity(np.asarray(damage), np.asarray(floor))
    if interval is not None and score.fidelity is not None:
        # Percentile intervals of a score clipped at 100 can exclude the point estimate by
        # rounding; keep the point inside its own interval.
        score.ci_low = min(interval[0], score.fidelity)
        score.ci_high = max(interval[1], score.fidelity)
    score.verdict = dmg.verdict(score.ci_low, score.ci_high, len(damage))


def until_decided(
    book: Ledger,
    record: stopping.StoppingRecord,
    score: EndpointScore,
    name: str,
    per: dict[str, ProbeEval],
    floors: dict[str, float | None],
) -> dict[str, Any]:
    """An --until-decided endpoint's verdict: the confidence sequence's when it cleared the
    threshold; else, if the endpoint answered every probe (a full run for it), the full
    run's bootstrap verdict; else inconclusive. Plus what reaching that verdict cost."""
    pids, damage, floor = sequence(book, record, per, floors)
    decision = stopping.decide(damage, floor, record.rule)
    order = [pid for pid in record.order if pid in book.order] or list(pids)
    answered = {pid for (ep, pid) in book.results if ep == name}
    whole_suite = all(pid in answered for pid in order)
    if decision.decided:
        interval = "confidence_sequence"
        score.ci_low, score.ci_high = decision.low, decision.high
        score.verdict = decision.verdict
        last = pids[decision.verdict_probe_index]
        spent: list[str] | None = order[: order.index(last) + 1]
    elif whole_suite:
        interval = "bootstrap"  # score.ci_* and verdict stay the full run's
        spent = None
    else:
        interval = "confidence_sequence"
        score.ci_low, score.ci_high = decision.low, decision.high
        score.verdict = "inconclusive"
        spent = None
    cost = verdict_cost(book, name, spent)
    stopped = record.stopped.get(name, {})
    return {
        "interval": interval,
        "cs_low": decision.low,
        "cs_high": decision.high,
        "sequence_probes": decision.n,
        "decided_after": decision.decided_after,
        "stopped": stopped.get("reason"),
        "cost_to_verdict": cost.to_dict(),
    }


def joint_mmd(
    book: Ledger, score: EndpointScore, name: str, per: dict[str, ProbeEval], pids: list[str]
) -> None:
    ref = book.reference or ""
    groups = []
    for pid in pids:
        ev = per.get(pid)
        if ev is None or not ev.sampled:
            continue
        ref_texts = [r.text for _, r in sorted(book.main(ref, pid).items()) if r.ok]
        cand_texts = [r.text for _, r in sorted(book.main(name, pid).items()) if r.ok]
        groups.append((ref_texts, cand_texts))
    result = mmd_test(groups, seed=dmg.seed_for("mmd-joint", name)) if groups else None
    if result is not None:
        score.mmd_p = result.p_value
        score.mmd_statistic = result.statistic
        score.mmd_probes = result.prompts
    else:
        score.mmd_p = None
        score.mmd_statistic = None
        score.mmd_probes = 0


def meta(
    reference: str | None, record: stopping.StoppingRecord | None, tokenizers: set[str]
) -> dict[str, Any]:
    return {
        "formula_version": dmg.FORMULA_VERSION,
        "reference": reference,
        "tokenizers": sorted(tokenizers),
        # The tiktoken encoding comparisons fell back to (a re-score asks for the same one).
        "encoding": next((t for t in sorted(tokenizers) if t != PROVIDER), None),
        "provider_tokens": PROVIDER in tokenizers,
        "bootstrap": {
            "b": dmg.BOOTSTRAP_B,
            "seed": dmg.BOOTSTRAP_SEED,
            "confidence": dmg.CONFIDENCE,
        },
        "mmd_permutations": PERMUTATIONS,
        "constants": {
            "token_window": dmg.TOKEN_WINDOW,
            "kl_scale": dmg.KL_SCALE,
            "leak_scale": dmg.LEAK_SCALE,
            "tool_args_differ": dmg.TOOL_ARGS_DIFFER,
            "threshold": dmg.THRESHOLD,
            "min_probes_for_verdict": dmg.MIN_PROBES_FOR_VERDICT,
        },
    } | ({"until_decided": record.rule.to_dict()} if record is not None else {})
