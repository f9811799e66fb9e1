"""The incremental scorer the runner/TUI feeds one result at a time, and `score_snapshot`.

`Scorer.add(result)` re-evaluates only what that result touches: one (endpoint, probe) pair for a
candidate's result, one probe across endpoints for a reference result. Per-endpoint running sums
give a live score with a cheap normal-approximation interval in O(1). `finalize()` recomputes
everything canonically (probes in suite order, exact sums, full permutation counts, paired
bootstrap with fixed seeds), so its report depends only on the set of results: the scores stored
in a snapshot equal a re-score of it.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vvtui.features import probe_features
from vvtui.model import EndpointInfo, Mark, Probe, Result, Snapshot
from vvtui.scoring import conformance
from vvtui.scoring import damage as dmg
from vvtui.scoring import decide as stopping
from vvtui.scoring import tools as toolcalls
from vvtui.scoring.compare import (
    PendingKL,
    ProbeComparison,
    ResultFacts,
    compare_pair,
    finish_kl,
    is_sampled,
    wants_json,
    worst_mark,
)
from vvtui.scoring.mmd import PERMUTATIONS, MMDResult, mmd_test
from vvtui.scoring.perf import PerfAgg, percentile, result_cost
from vvtui.scoring.report import REPORT_VERSION, EndpointScore, ScoreReport
from vvtui.scoring.tokenize import PROVIDER, default_encoding_name
from vvtui.scoring.truncation import length_excess
from vvtui.scoring.verdict_gates import OTHER, gated_verdict, gates_for

# Permutations for a sampled probe's live MMD (the final report uses mmd.PERMUTATIONS).
LIVE_PERMUTATIONS = 200
# A sampled probe "fails" when its pass rate is this far below the reference's.
SAMPLED_FAIL_GAP = 0.2
MMD_ALPHA = 0.01


@dataclass(slots=True)
class ProbeEval:
    """One endpoint on one probe: damage, its parts, and the counts endpoint scores sum up."""

    sampled: bool
    mark: Mark = "pending"
    damage: float | None = None
    parts: dict[str, float | None] = field(default_factory=dict)
    comparisons: dict[int, ProbeComparison] = field(default_factory=dict)
    checks_passed: int = 0
    checks_total: int = 0
    acc_num: int = 0
    acc_den: int = 0
    tool: toolcalls.ToolConfusion = field(default_factory=toolcalls.ToolConfusion)
    kl_sum: float = 0.0
    kl_positions: int = 0
    top1_agree: int = 0
    kl_uncertain: int = 0
    agree_sum: float = 0.0
    agree_n: int = 0
    leak_sum: float = 0.0
    leak_n: int = 0
    mmd: MMDResult | None = None
    tokenizers: frozenset[str] = frozenset()
    # Reference only: its noise floor on this probe (damage of its repeats vs its main answer).
    floor: float | None = None
    # The features this endpoint refused on a probe the reference answered (a conformance gap),
    # and whether a deterministic answer was cut short of the reference's
    # (ProbeComparison.cut_short).
    gap: frozenset[str] | None = None
    cut: bool = False

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mark": self.mark,
            "damage": self.damage,
            "agreement": self.agree_sum / self.agree_n if self.agree_n else None,
            "first_divergence": None,
            "checks_passed": self.checks_passed,
            "checks_total": self.checks_total,
            "kl": self.kl_sum / self.kl_positions if self.kl_positions else None,
            "top1": self.top1_agree / self.kl_positions if self.kl_positions else None,
            "tokenizer": ",".join(sorted(self.tokenizers)) or None,
            "parts": {k: v for k, v in self.parts.items() if v is not None},
        }
        first = self.comparisons.get(0)
        if first is not None:
            out["first_divergence"] = first.first_divergence
            out["cut_at"] = first.cut_at
            out["tie_margin"] = first.tie_margin
            out["tool_match"] = first.tool_match
            out["error"] = None if first.error is None else first.error.kind
        if self.sampled:
            out["mmd_p"] = None if self.mmd is None else self.mmd.p_value
            out["mmd_statistic"] = None if self.mmd is None else self.mmd.statistic
        if self.floor is not None:
            out["noise_floor"] = self.floor
        return out


class _Agg:
    """Running sums of one endpoint's probe evaluations (add with sign +1, retract with -1)."""

    def __init__(self) -> None:
        self.n = 0
        self.sum_d = 0.0
        self.sum_d2 = 0.0
        self.n_floor = 0
        self.sum_floor = 0.0
        self.n_imputed = 0
        self.checks_passed = 0
        self.checks_total = 0
        self.acc_num = 0
        self.acc_den = 0
        self.tool = toolcalls.ToolConfusion()
        self.kl_sum = 0.0
        self.kl_positions = 0
        self.top1_agree = 0
        self.kl_uncertain = 0
        self.agree_sum = 0.0
        self.agree_n = 0
        self.leak_sum = 0.0
        self.leak_n = 0
        self.part_sum: dict[str, float] = dict.fromkeys(dmg.PARTS, 0.0)
        self.part_n: dict[str, int] = dict.fromkeys(dmg.PARTS, 0)
        self.refused = 0
        self.gaps: dict[str, int] = {}
        self.cut = 0

    def apply(self, ev: ProbeEval, floor: float | None, sign: int) -> None:
        if ev.damage is not None:
            d = ev.damage
            self.n += sign
            self.sum_d += sign * d
            self.sum_d2 += sign * d * d
            if ev.sampled:
                pass  # floor 0: the permutation null already discounts sampling noise
            elif floor is not None:
                self.n_floor += sign
                self.sum_floor += sign * floor
            else:
                self.n_imputed += sign
        for key, value in ev.parts.items():
            if value is not None:
                self.part_sum[key] += sign * value
                self.part_n[key] += sign
        self.checks_passed += sign * ev.checks_passed
        self.checks_total += sign * ev.checks_total
        self.acc_num += sign * ev.acc_num
        self.acc_den += sign * ev.acc_den
        self.tool.add(ev.tool, sign)
        self.kl_sum += sign * ev.kl_sum
        self.kl_positions += sign * ev.kl_positions
        self.top1_agree += sign * ev.top1_agree
        self.kl_uncertain += sign * ev.kl_uncertain
        self.agree_sum += sign * ev.agree_sum
        self.agree_n += sign * ev.agree_n
        self.leak_sum += sign * ev.leak_sum
        self.leak_n += sign * ev.leak_n
        self.cut += sign * int(ev.cut)
        if ev.gap is not None:
            self.refused += sign
            for feature in ev.gap:
                self.gaps[feature] = self.gaps.get(feature, 0) + sign

    def floor_mean(self) -> float:
        """Mean floor over measured probes: own floor where the reference repeated the probe,
        the mean measured floor for other deterministic probes, 0 for sampled probes."""
        if self.n <= 0:
            return 0.0
        per = self.sum_floor / self.n_floor if self.n_floor > 0 else 0.0
        return max(0.0, (self.sum_floor + self.n_imputed * per) / self.n)


def _add_logprobs(ev: ProbeEval, comp: ProbeComparison) -> None:
    stats = comp.logprobs
    if stats is not None and stats.positions:
        ev.kl_sum += stats.kl_sum
        ev.kl_positions += stats.positions
        ev.top1_agree += stats.top1_agree
        ev.kl_uncertain += stats.uncertain


def _refused(probe: Probe, cand: ResultFacts, ref: ResultFacts | None) -> set[str]:
    """The features a candidate refused on a probe the reference answered (empty: no gap)."""
    err = cand.result.error
    if err is None or err.kind != "unsupported" or ref is None or not ref.ok:
        return set()
    return probe_features(probe) or {OTHER}


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


class Scorer:
    """Scores endpoints against the reference as results arrive (see module docstring)."""

    def __init__(
        self,
        probes: list[Probe],
        endpoints: list[EndpointInfo],
        *,
        encoding: str | None = None,
        stopping_record: stopping.StoppingRecord | None = None,
    ) -> None:
        self._probes: dict[str, Probe] = {}
        self._order: dict[str, int] = {}
        for probe in probes:
            self._add_probe(probe)
        self._endpoints: dict[str, EndpointInfo] = {}
        for info in endpoints:
            self._endpoints[info.name] = info
        refs = [e.name for e in endpoints if e.reference]
        self.reference: str | None = refs[0] if refs else (endpoints[0].name if endpoints else None)
        self._preferred_encoding = encoding
        self._encoding: str | None = None
        # (endpoint, probe) -> (sample, repeat) -> Result
        self._results: dict[tuple[str, str], dict[tuple[int, int], Result]] = {}
        self._facts: dict[tuple[str, str, int, int], ResultFacts] = {}
        self._evals: dict[str, dict[str, ProbeEval]] = {}
        self._floor: dict[str, float | None] = {}
        self._aggs: dict[str, _Agg] = {}
        self._perf: dict[str, PerfAgg] = {}
        self._history: dict[str, list[float]] = {}
        self._vocab: dict[Hashable, int] = {}
        # probe -> (endpoint, sample) -> comparison, for sampled probes (computed on demand)
        self._sampled_cmp: dict[str, dict[tuple[str, int], ProbeComparison]] = {}
        # How many add/add_many calls fed this scorer: a scorer fed by exactly one batch already
        # holds the canonical evaluations finalize() needs.
        self._batches = 0
        # --until-decided: the rule and the order probes were sent in; verdicts then come from
        # the confidence sequence over that order (docs/scoring.md, "Until decided").
        self.stopping = stopping_record
        self._decisions: dict[str, tuple[tuple[int, int | None, int], stopping.Decision]] = {}
        self._changes: dict[str, int] = {}
        for name in self._endpoints:
            self._ensure_endpoint(name)

    # ---------------------------------------------------------------------------- setup

    def _add_probe(self, probe: Probe) -> None:
        if probe.id not in self._probes:
            self._order[probe.id] = len(self._order)
        self._probes[probe.id] = probe

    def _ensure_endpoint(self, name: str) -> None:
        if name in self._aggs:  # known: nothing to create (this runs once per result)
            return
        if name not in self._endpoints:
            self._endpoints[name] = EndpointInfo(name=name, model="", base_url="")
            if self.reference is None:
                self.reference = name
        self._evals.setdefault(name, {})
        self._aggs.setdefault(name, _Agg())
        self._perf.setdefault(name, PerfAgg())
        self._history.setdefault(name, [])

    def encoding(self) -> str:
        """The tiktoken encoding used when provider tokens cannot be compared (chosen once)."""
        if self._encoding is None:
            self._encoding = default_encoding_name(self._preferred_encoding)
        return self._encoding

    def _encoding_hint(self) -> str | None:
        # Resolved lazily by the comparison itself: loading tiktoken costs a few hundred ms and
        # is not needed when both sides carry their own tokens.
        return self._encoding or self._preferred_encoding

    @property
    def endpoint_names(self) -> list[str]:
        return list(self._endpoints)

    # ---------------------------------------------------------------------------- feeding

    def add(self, result: Result) -> set[str]:
        """Take one result (a repeated key replaces the earlier one); return the endpoints whose
        scores changed."""
        return self.add_many((result,))

    def add_many(self, results: Iterable[Result]) -> set[str]:
        """Take several results at once, evaluating each touched (endpoint, probe) once and
        comparing all their logprobs in one batch (what re-scoring a snapshot uses)."""
        # Stable: a later duplicate still wins.
        batch = sorted(results, key=self._canonical_key())
        self._batches += 1
        # A big batch allocates millions of small objects next to a snapshot's millions of
        # token tuples; cyclic GC passes would re-walk all of them (nothing here makes cycles).
        paused = len(batch) > 256 and gc.isenabled()
        if paused:
            gc.disable()
        try:
            return self._add_batch(batch)
        finally:
            if paused:
                gc.enable()

    def _add_batch(self, batch: list[Result]) -> set[str]:
        touched: set[tuple[str, str]] = set()
        ref_probes: set[str] = set()
        for result in batch:
            self._store(result)
            if result.endpoint == self.reference:
                ref_probes.add(result.probe_id)
            elif result.repeat == 0:
                touched.add((result.endpoint, result.probe_id))
        changed = {ep for ep, _ in touched}
        ref = self.reference
        if ref is not None:
            for pid in sorted(ref_probes, key=self._order.__getitem__):
                changed.add(ref)
                self._install(ref, pid, self._evaluate_reference(self._probes[pid]))
                self._update_floor(pid)
                for ep in self._endpoints:
                    if ep != ref and (ep, pid) in self._results:
                        touched.add((ep, pid))
                        changed.add(ep)
        staged: list[tuple[str, str, dict[int, ProbeComparison]]] = []
        pending: list[PendingKL] = []
        ep_index = {name: i for i, name in enumerate(self._endpoints)}
        for ep, pid in sorted(touched, key=lambda k: (self._order[k[1]], ep_index[k[0]])):
            probe = self._probes[pid]
            if is_sampled(probe):
                # Until decided, the runner stops on these damages: they must be the final
                # report's, so a re-score reaches the same decisions.
                perms = LIVE_PERMUTATIONS if self.stopping is None else PERMUTATIONS
                self._install(ep, pid, self._evaluate(ep, pid, perms))
            else:
                comps = self._pair_comparisons(probe, ep, pid, pending)
                staged.append((ep, pid, comps))
        finish_kl(pending, self._vocab)
        for ep, pid, comps in staged:
            self._install(ep, pid, self._aggregate_pairs(self._probes[pid], comps))
        for name in sorted(changed):
            score = self._live_fidelity(name)
            if score is not None:
                self._history[name].append(score)
        return changed

    def _canonical_key(self) -> Callable[[Result], tuple[float, int, int, int]]:
        """Results' canonical order: suite order, endpoint order, sample, repeat (the endpoint
        order is looked up once per batch, not once per result)."""
        index = {name: i for i, name in enumerate(self._endpoints)}
        unknown = len(index)
        order = self._order

        def key(result: Result) -> tuple[float, int, int, int]:
            ep = index.get(result.endpoint, unknown)
            return (order.get(result.probe_id, math.inf), ep, result.sample, result.repeat)

        return key

    def _store(self, result: Result) -> None:
        ep, pid = result.endpoint, result.probe_id
        self._ensure_endpoint(ep)
        if pid not in self._probes:
            self._add_probe(Probe(id=pid))
        probe = self._probes[pid]
        slot = self._results.setdefault((ep, pid), {})
        key = (result.sample, result.repeat)
        perf = self._perf[ep]
        old = slot.get(key)
        if old is not None:
            perf.remove(old)
        slot[key] = result
        self._facts[result.key] = ResultFacts(probe, result)
        perf.add(result, self._endpoints[ep].price, probe)
        self._sampled_cmp.pop(pid, None)

    def _main(self, ep: str, pid: str) -> dict[int, Result]:
        slot = self._results.get((ep, pid), {})
        return {s: r for (s, rep), r in slot.items() if rep == 0}

    def _install(self, ep: str, pid: str, new: ProbeEval | None) -> None:
        """Swap (endpoint, probe)'s evaluation, keeping the running sums in step."""
        evals = self._evals[ep]
        agg = self._aggs[ep]
        self._changes[ep] = self._changes.get(ep, 0) + 1
        # The reference's own evaluations carry no damage, hence no floor.
        floor = None if ep == self.reference else self._floor.get(pid)
        old = evals.get(pid)
        if old is not None:
            agg.apply(old, floor, -1)
        if new is None:
            evals.pop(pid, None)
            return
        evals[pid] = new
        agg.apply(new, floor, +1)

    def _update_floor(self, pid: str) -> None:
        ref = self.reference
        ref_eval = self._evals.get(ref or "", {}).get(pid)
        new = None if ref_eval is None else ref_eval.floor
        old = self._floor.get(pid)
        if new == old:
            return
        for ep, evals in self._evals.items():
            ev = evals.get(pid)
            if ep == ref or ev is None:
                continue
            self._aggs[ep].apply(ev, old, -1)
            self._aggs[ep].apply(ev, new, +1)
            self._changes[ep] = self._changes.get(ep, 0) + 1
        self._floor[pid] = new

    # ---------------------------------------------------------------------------- evaluation

    def _evaluate(self, ep: str, pid: str, permutations: int) -> ProbeEval | None:
        cand = self._main(ep, pid)
        if not cand and ep != self.reference:
            return None
        probe = self._probes[pid]
        if ep == self.reference:
            return self._evaluate_reference(probe)
        if is_sampled(probe):
            ref = self._main(self.reference or "", pid)
            return self._evaluate_sampled(ep, probe, ref, cand, permutations)
        pending: list[PendingKL] = []
        comps = self._pair_comparisons(probe, ep, pid, pending)
        finish_kl(pending, self._vocab)
        return self._aggregate_pairs(probe, comps)

    def _facts_of(self, result: Result | None) -> ResultFacts | None:
        return None if result is None else self._facts[result.key]

    def _pair_comparisons(
        self, probe: Probe, ep: str, pid: str, pending: list[PendingKL]
    ) -> dict[int, ProbeComparison]:
        cand = self._main(ep, pid)
        ref = self._main(self.reference or "", pid)
        comps = {}
        for s in sorted(cand):
            cf = self._facts[cand[s].key]
            rf = self._facts_of(ref.get(s))
            comps[s] = compare_pair(probe, rf, cf, self._vocab, self._encoding_hint(), pending)
        return comps

    def _aggregate_pairs(self, probe: Probe, comps: dict[int, ProbeComparison]) -> ProbeEval | None:
        if not comps:
            return None
        ev = ProbeEval(sampled=False)
        offered = toolcalls.offered_tools(probe)
        ref_main = self._main(self.reference or "", probe.id)
        damages: list[float] = []
        marks: list[Mark] = []
        tokenizers: set[str] = set()
        part_sums: dict[str, list[float]] = {}
        gap: set[str] = set()
        for s, comp in comps.items():
            cf = self._facts[(comp.endpoint, comp.probe_id, s, 0)]
            rf = self._facts_of(ref_main.get(s))
            ev.comparisons[s] = comp
            marks.append(comp.mark)
            if cf.excluded:
                gap |= _refused(probe, cf, rf)
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
            _add_logprobs(ev, comp)
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
        ev.mark = worst_mark(marks + ["pending"] * missing)
        ev.tokenizers = frozenset(tokenizers)
        return ev

    def _evaluate_sampled(
        self,
        ep: str,
        probe: Probe,
        ref: dict[int, Result],
        cand: dict[int, Result],
        permutations: int,
    ) -> ProbeEval:
        ev = ProbeEval(sampled=True)
        offered = toolcalls.offered_tools(probe)
        facts_c = [self._facts[cand[s].key] for s in sorted(cand)]
        facts_r = [self._facts[ref[s].key] for s in sorted(ref)]
        ok_c = [f for f in facts_c if f.ok]
        err_c = [f for f in facts_c if not f.ok and not f.excluded]
        ok_r = [f for f in facts_r if f.ok]
        counted = ok_c + err_c
        if ok_r:
            gap = set().union(*(_refused(probe, f, ok_r[0]) for f in facts_c))
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
            ev.mark = "pending"
        elif err_c or not ok_c:
            ev.mark = "error"
        elif rate_c is not None and rate_c < (1.0 if rate_r is None else rate_r) - SAMPLED_FAIL_GAP:
            ev.mark = "fail"
        elif ev.mmd is not None and ev.mmd.p_value < MMD_ALPHA:
            ev.mark = "diverged"
        elif not complete:
            ev.mark = "pending"
        else:
            ev.mark = "pass"
        return ev

    def _evaluate_reference(self, probe: Probe) -> ProbeEval | None:
        ref = self.reference or ""
        main = self._main(ref, probe.id)
        if not main:
            return None
        ev = ProbeEval(sampled=is_sampled(probe))
        offered = toolcalls.offered_tools(probe)
        marks: list[Mark] = []
        for s in sorted(main):
            f = self._facts[main[s].key]
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
        ev.mark = worst_mark(marks + ["pending"] * max(0, probe.n_samples - len(main)))
        if ev.sampled:
            return ev
        # Noise floor: each repeat against the main answer to the same sample.
        slot = self._results.get((ref, probe.id), {})
        floors: list[float] = []
        tokenizers: set[str] = set()
        for (s, rep), result in sorted(slot.items()):
            if rep == 0 or s not in main:
                continue
            mf, rf = self._facts[main[s].key], self._facts[result.key]
            if not mf.ok or not rf.ok:
                continue
            comp = compare_pair(probe, mf, rf, self._vocab, self._encoding_hint())
            if comp.damage is not None:
                floors.append(comp.damage)
            if comp.agreement is not None:
                ev.agree_sum += comp.agreement
                ev.agree_n += 1
            _add_logprobs(ev, comp)
            if comp.tokenizer:
                tokenizers.add(comp.tokenizer)
        ev.floor = math.fsum(floors) / len(floors) if floors else None
        ev.tokenizers = frozenset(tokenizers)
        return ev

    # ---------------------------------------------------------------------------- queries

    def _live_fidelity(self, name: str) -> float | None:
        if name == self.reference:
            return 100.0 if self._reference_answered() else None
        agg = self._aggs[name]
        if agg.n <= 0:
            return None
        return dmg.fidelity(_clip01(agg.sum_d / agg.n), agg.floor_mean())

    def _reference_answered(self) -> bool:
        evals = self._evals.get(self.reference or "", {})
        return any(ev.mark not in ("error", "pending") for ev in evals.values())

    def _sequence(
        self,
        per: dict[str, ProbeEval],
        floors: dict[str, float | None],
        prefix: int | None = None,
    ) -> tuple[list[str], list[float], list[float]]:
        """An endpoint's measured probes in the order they were sent (suite order without a
        stopping record), with damage and floor by the rule of `_final_fidelity`."""
        if self.stopping is not None and self.stopping.order:
            order = [pid for pid in self.stopping.order if pid in self._order]
        else:
            order = sorted(self._probes, key=self._order.__getitem__)
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

    def sequence(self, name: str) -> tuple[list[str], list[float], list[float]]:
        """(probe ids, damage, floor) of an endpoint's measured probes in the order sent."""
        return self._sequence(self._evals.get(name, {}), self._floor)

    def decision(
        self, name: str, *, prefix: int | None = None, remaining: int = 0
    ) -> stopping.Decision:
        """The confidence sequence of one endpoint over its first `prefix` probes in the order
        sent (all so far when None), and whether `remaining` more could still decide it."""
        rule = self.stopping.rule if self.stopping is not None else stopping.StoppingRule()
        key = (self._changes.get(name, 0), prefix, remaining)
        cached = self._decisions.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        _, damage, floor = self._sequence(self._evals.get(name, {}), self._floor, prefix)
        result = stopping.decide(damage, floor, rule, remaining)
        self._decisions[name] = (key, result)
        return result

    def full_run_could_decide(
        self, name: str, prefix: int | None = None, total: int | None = None
    ) -> bool:
        """Whether the full run's rule (the bootstrap interval) may decide this endpoint once it
        has answered all `total` probes, if the rest look like its probes so far: the interval
        on those, narrowed by sqrt(n / total) around its point. An endpoint whose confidence
        sequence can no longer clear the threshold is still worth the whole suite then."""
        _, damage, floor = self._sequence(self._evals.get(name, {}), self._floor, prefix)
        n = len(damage)
        if n < dmg.MIN_PROBES_FOR_VERDICT:
            return True
        d, f = np.asarray(damage), np.asarray(floor)
        interval = dmg.bootstrap_fidelity(d, f)
        point = dmg.fidelity(float(d.mean()), float(f.mean()))
        if interval is None or point is None:
            return False
        shrink = math.sqrt(n / max(n, total or n))
        low = point - (point - interval[0]) * shrink
        high = point + (interval[1] - point) * shrink
        return dmg.verdict(low, high, n) != "inconclusive"

    def verdict_cost(self, name: str, probes: list[str] | None) -> stopping.VerdictCost:
        """Requests, tokens and USD of `name`'s own answers to `probes` (all when None)."""
        info = self._endpoints.get(name)
        price = info.price if info is not None else None
        lines = []
        for (ep, pid), slot in self._results.items():
            if ep != name:
                continue
            for result in slot.values():
                usd, _ = result_cost(result, price, self._probes.get(pid))
                lines.append(stopping.CostLine(pid, result.input_tokens, result.output_tokens, usd))
        return stopping.verdict_cost(lines, probes)

    def history(self, name: str) -> list[float]:
        """Fidelity after each result that changed this endpoint's score (for a sparkline)."""
        return list(self._history.get(name, []))

    def endpoint_score(self, name: str) -> EndpointScore:
        """Live score from running sums; the interval is a normal approximation until
        `finalize()`."""
        self._ensure_endpoint(name)
        agg = self._aggs[name]
        score = self._base_score(name, agg)
        if name == self.reference:
            self._fill_reference(score)
        elif agg.n > 0:
            floor = agg.floor_mean()
            mean_d = _clip01(agg.sum_d / agg.n)
            score.damage = mean_d
            score.noise_floor = floor
            score.fidelity = dmg.fidelity(mean_d, floor)
            interval = dmg.normal_interval(agg.n, agg.sum_d, agg.sum_d2, floor)
            if interval is not None:
                score.ci_low, score.ci_high = interval
            score.verdict = dmg.verdict(score.ci_low, score.ci_high, agg.n)
            if self.stopping is not None:
                # Looked at after every probe: only the anytime-valid interval may be shown.
                decision = self.decision(name)
                score.ci_low, score.ci_high = decision.low, decision.high
                score.verdict = decision.verdict
        score.verdict, score.verdict_reasons = gated_verdict(score.verdict, gates_for(score))
        mmd = [ev.mmd for ev in self._evals[name].values() if ev.mmd is not None]
        if mmd and name != self.reference:
            # Live: Bonferroni-adjusted smallest per-probe p-value (the joint test runs at the end).
            score.mmd_p = min(1.0, min(m.p_value for m in mmd) * len(mmd))
            score.mmd_probes = len(mmd)
        if score.answered_nothing:
            score.mark_no_answers()
        return score

    def endpoint_scores(self) -> dict[str, EndpointScore]:
        return {name: self.endpoint_score(name) for name in self._endpoints}

    def _base_score(self, name: str, agg: _Agg) -> EndpointScore:
        perf = self._perf[name]
        is_ref = name == self.reference
        score = EndpointScore(name=name, reference=is_ref)
        score.n_probes = agg.n if not is_ref else len(self._evals[name])
        score.n_results = perf.results
        score.parts = {k: agg.part_sum[k] / agg.part_n[k] for k in dmg.PARTS if agg.part_n[k] > 0}
        score.checks_passed = agg.checks_passed
        score.checks_total = agg.checks_total
        if not is_ref:
            score.accuracy = _ratio(agg.acc_num, agg.acc_den)
            score.tool_precision = agg.tool.precision
            score.tool_recall = agg.tool.recall
            score.tool_f1 = agg.tool.f1
        score.schema_accuracy = agg.tool.schema_accuracy
        score.tool_triggered = agg.tool.triggered
        score.tool_schema_ok = agg.tool.schema_ok
        score.kl_mean = _ratio(agg.kl_sum, agg.kl_positions)
        score.top1_agreement = _ratio(agg.top1_agree, agg.kl_positions)
        score.kl_positions = agg.kl_positions
        score.kl_uncertain = agg.kl_uncertain
        score.token_agreement = _ratio(agg.agree_sum, agg.agree_n)
        score.leakage = _ratio(agg.leak_sum, agg.leak_n)
        score.ttft_p50 = percentile(perf.ttft, 0.5)
        score.ttft_p90 = percentile(perf.ttft, 0.9)
        score.tps_p50 = percentile(perf.tps, 0.5)
        score.tps_p90 = percentile(perf.tps, 0.9)
        score.cost_usd = perf.total_cost()
        if score.cost_usd is not None and agg.checks_passed > 0:
            score.cost_per_pass = score.cost_usd / agg.checks_passed
        score.estimated_usage = bool(perf.estimated)
        score.errors = perf.error_count
        score.errors_by_kind = dict(sorted(perf.errors.items()))
        if not is_ref:
            score.refused_probes = agg.refused
            score.gaps = {k: v for k, v in sorted(agg.gaps.items()) if v > 0}
            score.cut_probes = agg.cut
        score.measured = {
            "tokens": agg.part_n["tokens"] > 0 or (is_ref and agg.agree_n > 0),
            "checks": agg.checks_total > 0,
            "logprobs": agg.kl_positions > 0,
            "tools": agg.tool.compared > 0 or agg.tool.triggered > 0,
            "json": agg.part_n["json"] > 0,
            "leakage": agg.leak_n > 0,
            "mmd": agg.part_n["mmd"] > 0,
            "noise_floor": any(v is not None for v in self._floor.values()),
            "latency": bool(perf.ttft),
            "cost": perf.priced,
        }
        score.conformance = self._conformance(name)
        return score

    def _conformance(self, name: str) -> dict[str, Any]:
        info = self._endpoints.get(name)
        ref = self._endpoints.get(self.reference or "")
        against = None if ref is None or name == self.reference else ref.conformance
        return conformance.score_entry(info.conformance if info else None, against)

    def _fill_reference(self, score: EndpointScore) -> None:
        score.verdict = "reference"
        if self._reference_answered():
            # 100 over the probes it answered; a probe it failed scores nothing, not 100.
            score.fidelity = score.ci_low = score.ci_high = 100.0
        floors = [v for v in self._floor.values() if v is not None]
        score.noise_floor = math.fsum(floors) / len(floors) if floors else None
        score.damage = score.noise_floor

    def comparison(self, endpoint: str, probe_id: str, sample: int = 0) -> ProbeComparison | None:
        """The candidate's answer to (probe, sample) against the reference's, for highlighting.
        For the reference itself: its answer with its check outcomes (no alignment). None when
        the endpoint has not answered that sample yet."""
        result = self._main(endpoint, probe_id).get(sample)
        if result is None:
            return None
        probe = self._probes[probe_id]
        facts = self._facts[result.key]
        if endpoint == self.reference:
            comp = ProbeComparison(endpoint, probe_id, sample, "pending")
            comp.checks = facts.checks
            comp.ref_checks = facts.checks
            comp.error = result.error
            if not facts.ok:
                comp.mark = "error"
            elif facts.checks and not facts.all_passed:
                comp.mark = "fail"
            else:
                comp.mark = "pass"
            return comp
        ev = self._evals.get(endpoint, {}).get(probe_id)
        if ev is not None and sample in ev.comparisons:
            return ev.comparisons[sample]
        key = (endpoint, sample)
        cache = self._sampled_cmp.setdefault(probe_id, {})
        cached = cache.get(key)
        if cached is None:
            ref = self._facts_of(self._main(self.reference or "", probe_id).get(sample))
            cached = compare_pair(probe, ref, facts, self._vocab, self._encoding_hint())
            if is_sampled(probe) and cached.mark == "diverged":
                cached.mark = "pass"  # samples of a distribution are expected to differ
            cached.damage = None  # a sampled probe's damage is its distribution's, not a pair's
            cache[key] = cached
        return cached

    def probe_summary(self, endpoint: str, probe_id: str) -> dict[str, Any] | None:
        """The per-probe row the report would hold for this endpoint (damage, its parts, mark),
        as scored so far; None before the endpoint answered it."""
        ev = self._evals.get(endpoint, {}).get(probe_id)
        return None if ev is None else ev.summary()

    def noise_floor(self, probe_id: str) -> float | None:
        """The reference's own damage on this probe (its repeats against its main answer)."""
        return self._floor.get(probe_id)

    def probe_marks(self, probe_id: str) -> dict[str, Mark]:
        """Endpoint -> mark ("pass", "fail", "diverged", "error", "pending") for one probe."""
        out: dict[str, Mark] = {}
        for name in self._endpoints:
            ev = self._evals[name].get(probe_id)
            out[name] = "pending" if ev is None else ev.mark
        return out

    # ---------------------------------------------------------------------------- final report

    def finalize(self) -> ScoreReport:
        """The canonical report, a function of the set of results alone: evaluations redone in
        one batch in suite order (unless this scorer was fed by exactly one batch, which is the
        same computation), sampled probes with the full permutation count, exact sums, joint
        MMD per endpoint and the seeded paired bootstrap. Equal to `score_snapshot` of a
        snapshot holding these results."""
        if self._batches == 1:
            return self._paused_report()
        fresh = Scorer(
            sorted(self._probes.values(), key=lambda p: self._order[p.id]),
            list(self._endpoints.values()),
            encoding=self._preferred_encoding,
            stopping_record=self.stopping,
        )
        fresh.reference = self.reference
        fresh.add_many([r for slot in self._results.values() for r in slot.values()])
        return fresh._paused_report()

    def _paused_report(self) -> ScoreReport:
        paused = gc.isenabled() and sum(len(e) for e in self._evals.values()) > 256
        if paused:
            gc.disable()
        try:
            return self._report()
        finally:
            if paused:
                gc.enable()

    def _report(self) -> ScoreReport:
        pids = sorted(self._probes, key=self._order.__getitem__)
        ref = self.reference
        final_evals: dict[str, dict[str, ProbeEval]] = {}
        for name in self._endpoints:
            per: dict[str, ProbeEval] = {}
            for pid in pids:
                ev = self._evals[name].get(pid)
                if ev is None:
                    continue
                if ev.sampled and name != ref:
                    fresh = self._evaluate(name, pid, PERMUTATIONS)
                    if fresh is None:
                        continue
                    ev = fresh
                per[pid] = ev
            final_evals[name] = per
        floors = {pid: self._floor.get(pid) for pid in pids}

        report = ScoreReport(version=REPORT_VERSION)
        tokenizers: set[str] = set()
        for name in self._endpoints:
            per = final_evals[name]
            agg = _Agg()
            for pid in pids:
                ev = per.get(pid)
                if ev is not None:
                    agg.apply(ev, None if name == ref else floors[pid], +1)
                    tokenizers |= ev.tokenizers
            score = self._base_score(name, agg)
            score.final = True
            if name == ref:
                self._fill_reference(score)
            else:
                self._final_fidelity(score, per, floors, pids)
                self._joint_mmd(score, name, per, pids)
                if self.stopping is not None:
                    report.decisions[name] = self._until_decided(score, name, per, floors)
                score.verdict, score.verdict_reasons = gated_verdict(
                    score.verdict, gates_for(score)
                )
            if score.answered_nothing:
                score.mark_no_answers()
            report.endpoints[name] = score
        for pid in pids:
            row = {
                name: final_evals[name][pid].summary()
                for name in self._endpoints
                if pid in final_evals[name]
            }
            if row:
                report.probes[pid] = row
        report.meta = self._meta(tokenizers)
        return report

    def _final_fidelity(
        self,
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

    def _until_decided(
        self,
        score: EndpointScore,
        name: str,
        per: dict[str, ProbeEval],
        floors: dict[str, float | None],
    ) -> dict[str, Any]:
        """An --until-decided endpoint's verdict: the confidence sequence's when it cleared the
        threshold; else, if the endpoint answered every probe (a full run for it), the full
        run's bootstrap verdict; else inconclusive. Plus what reaching that verdict cost."""
        assert self.stopping is not None
        pids, damage, floor = self._sequence(per, floors)
        decision = stopping.decide(damage, floor, self.stopping.rule)
        order = [pid for pid in self.stopping.order if pid in self._order] or list(pids)
        answered = {pid for (ep, pid) in self._results if ep == name}
        whole_suite = all(pid in answered for pid in order)
        if decision.decided:
            interval = "confidence_sequence"
            score.ci_low, score.ci_high = decision.low, decision.high
            score.verdict = decision.verdict
            last = pids[decision.verdict_probe_index]
            spent = order[: order.index(last) + 1]
        elif whole_suite:
            interval = "bootstrap"  # score.ci_* and verdict stay the full run's
            spent = None
        else:
            interval = "confidence_sequence"
            score.ci_low, score.ci_high = decision.low, decision.high
            score.verdict = "inconclusive"
            spent = None
        cost = self.verdict_cost(name, spent)
        stopped = self.stopping.stopped.get(name, {})
        return {
            "interval": interval,
            "cs_low": decision.low,
            "cs_high": decision.high,
            "sequence_probes": decision.n,
            "decided_after": decision.decided_after,
            "stopped": stopped.get("reason"),
            "cost_to_verdict": cost.to_dict(),
        }

    def _joint_mmd(
        self, score: EndpointScore, name: str, per: dict[str, ProbeEval], pids: list[str]
    ) -> None:
        ref = self.reference or ""
        groups = []
        for pid in pids:
            ev = per.get(pid)
            if ev is None or not ev.sampled:
                continue
            ref_texts = [r.text for _, r in sorted(self._main(ref, pid).items()) if r.ok]
            cand_texts = [r.text for _, r in sorted(self._main(name, pid).items()) if r.ok]
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

    def _meta(self, tokenizers: set[str]) -> dict[str, Any]:
        return {
            "formula_version": dmg.FORMULA_VERSION,
            "reference": self.reference,
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
        } | ({"until_decided": self.stopping.rule.to_dict()} if self.stopping is not None else {})


def score_snapshot(snapshot: Snapshot, *, encoding: str | None = None) -> ScoreReport:
    """Re-score a snapshot from its probes, endpoints and results alone.

    The fallback tiktoken encoding is, in order: `encoding`, the one recorded in the snapshot's
    scores (so a re-score reproduces them when that encoding is available here), the default.
    """
    if encoding is None:
        recorded = (snapshot.scores or {}).get("meta", {})
        encoding = recorded.get("encoding") if isinstance(recorded, dict) else None
    record = snapshot.run.stopping
    scorer = Scorer(
        snapshot.probes,
        snapshot.endpoints,
        encoding=encoding,
        stopping_record=stopping.StoppingRecord.from_dict(record) if record else None,
    )
    scorer.add_many(snapshot.results)
    return scorer.finalize()
