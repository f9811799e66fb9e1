"""The incremental scorer the runner/TUI feeds one result at a time, and `score_snapshot`.

`Scorer.add(result)` re-evaluates only what that result touches: one (endpoint, probe) pair for a
candidate's result, one probe across endpoints for a reference result. Per-endpoint running sums
give a live score with a cheap normal-approximation interval in O(1). `finalize()` recomputes
everything canonically (probes in suite order, exact sums, full permutation counts, paired
bootstrap with fixed seeds), so its report depends only on the set of results: the scores stored
in a snapshot equal a re-score of it.

The `Scorer` wires three parts together: `tally` (what was received, the current evaluations and
the running sums), `evaluate` (one endpoint on one probe, pure) and `assemble` (scores and the
final report). Endpoint metrics are declared in `metrics`.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np

from vvtui.model import PENDING, EndpointInfo, Mark, Probe, Result, Snapshot
from vvtui.reference import reference_of
from vvtui.scoring import assemble
from vvtui.scoring import damage as dmg
from vvtui.scoring import decide as stopping
from vvtui.scoring.compare import (
    PendingKL,
    ProbeComparison,
    ResultFacts,
    compare_pair,
    finish_kl,
    is_sampled,
)
from vvtui.scoring.evaluate import (
    LIVE_PERMUTATIONS,
    aggregate_pairs,
    evaluate_reference,
    evaluate_sampled,
    pair_comparisons,
)
from vvtui.scoring.metrics import ProbeEval
from vvtui.scoring.mmd import PERMUTATIONS
from vvtui.scoring.report import EndpointScore, ScoreReport
from vvtui.scoring.tally import Ledger
from vvtui.scoring.tokenize import default_encoding_name

__all__ = ["ProbeEval", "Scorer", "score_snapshot"]

# A deterministic (endpoint, probe) whose comparisons wait for the batch's logprob KL: the
# comparisons and the facts of both sides they were made from.
_Staged = tuple[
    str, str, dict[int, ProbeComparison], dict[int, ResultFacts], dict[int, ResultFacts]
]


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
        self._book = Ledger()
        for probe in probes:
            self._book.add_probe(probe)
        for info in endpoints:
            self._book.endpoints[info.name] = info
        self.reference = reference_of(endpoints).name if endpoints else None
        self._preferred_encoding = encoding
        self._encoding: str | None = None
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
        for name in self._book.endpoints:
            self._ensure_endpoint(name)

    # ---------------------------------------------------------------------------- setup

    @property
    def reference(self) -> str | None:
        """The endpoint the others are scored against."""
        return self._book.reference

    @reference.setter
    def reference(self, name: str | None) -> None:
        self._book.reference = name

    def _ensure_endpoint(self, name: str) -> None:
        if self._book.ensure_endpoint(name):
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
        return list(self._book.endpoints)

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
        book = self._book
        touched: set[tuple[str, str]] = set()
        ref_probes: set[str] = set()
        for result in batch:
            self._store(result)
            if result.endpoint == book.reference:
                ref_probes.add(result.probe_id)
            elif result.repeat == 0:
                touched.add((result.endpoint, result.probe_id))
        changed = {ep for ep, _ in touched}
        ref = book.reference
        if ref is not None:
            for pid in sorted(ref_probes, key=book.order.__getitem__):
                changed.add(ref)
                book.install(ref, pid, self._evaluate_reference(pid))
                book.update_floor(pid)
                for ep in book.endpoints:
                    if ep != ref and (ep, pid) in book.results:
                        touched.add((ep, pid))
                        changed.add(ep)
        staged: list[_Staged] = []
        pending: list[PendingKL] = []
        ep_index = {name: i for i, name in enumerate(book.endpoints)}
        for ep, pid in sorted(touched, key=lambda k: (book.order[k[1]], ep_index[k[0]])):
            probe = book.probes[pid]
            if is_sampled(probe):
                # Until decided, the runner stops on these damages: they must be the final
                # report's, so a re-score reaches the same decisions.
                perms = LIVE_PERMUTATIONS if self.stopping is None else PERMUTATIONS
                book.install(ep, pid, self._evaluate(ep, pid, perms))
            else:
                cand = book.main_facts(ep, pid)
                ref_facts = book.main_facts(ref or "", pid)
                comps = pair_comparisons(
                    probe, cand, ref_facts, self._vocab, self._encoding_hint(), pending
                )
                staged.append((ep, pid, comps, cand, ref_facts))
        finish_kl(pending, self._vocab)
        for ep, pid, comps, cand, ref_facts in staged:
            book.install(ep, pid, aggregate_pairs(book.probes[pid], comps, cand, ref_facts))
        for name in sorted(changed):
            score = assemble.live_fidelity(book, name)
            if score is not None:
                self._history[name].append(score)
        return changed

    def _canonical_key(self) -> Callable[[Result], tuple[float, int, int, int]]:
        """Results' canonical order: suite order, endpoint order, sample, repeat (the endpoint
        order is looked up once per batch, not once per result)."""
        index = {name: i for i, name in enumerate(self._book.endpoints)}
        unknown = len(index)
        order = self._book.order

        def key(result: Result) -> tuple[float, int, int, int]:
            ep = index.get(result.endpoint, unknown)
            return (order.get(result.probe_id, math.inf), ep, result.sample, result.repeat)

        return key

    def _store(self, result: Result) -> None:
        self._ensure_endpoint(result.endpoint)
        self._book.store(result)
        self._sampled_cmp.pop(result.probe_id, None)

    # ---------------------------------------------------------------------------- evaluation

    def _evaluate(self, ep: str, pid: str, permutations: int) -> ProbeEval | None:
        """(endpoint, probe)'s evaluation by the strategy its probe and role call for."""
        book = self._book
        if ep == book.reference:
            return self._evaluate_reference(pid)
        cand = book.main_facts(ep, pid)
        if not cand:
            return None
        probe = book.probes[pid]
        ref = book.main_facts(book.reference or "", pid)
        if is_sampled(probe):
            return evaluate_sampled(ep, probe, ref, cand, permutations)
        pending: list[PendingKL] = []
        comps = pair_comparisons(probe, cand, ref, self._vocab, self._encoding_hint(), pending)
        finish_kl(pending, self._vocab)
        return aggregate_pairs(probe, comps, cand, ref)

    def _evaluate_reference(self, pid: str) -> ProbeEval | None:
        book = self._book
        answers = book.slot_facts(book.reference or "", pid)
        return evaluate_reference(book.probes[pid], answers, self._vocab, self._encoding_hint())

    # ---------------------------------------------------------------------------- queries

    def sequence(self, name: str) -> tuple[list[str], list[float], list[float]]:
        """(probe ids, damage, floor) of an endpoint's measured probes in the order sent."""
        book = self._book
        return assemble.sequence(book, self.stopping, book.evals.get(name, {}), book.floor)

    def decision(
        self, name: str, *, prefix: int | None = None, remaining: int = 0
    ) -> stopping.Decision:
        """The confidence sequence of one endpoint over its first `prefix` probes in the order
        sent (all so far when None), and whether `remaining` more could still decide it."""
        book = self._book
        rule = self.stopping.rule if self.stopping is not None else stopping.StoppingRule()
        key = (book.changes.get(name, 0), prefix, remaining)
        cached = self._decisions.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        _, damage, floor = assemble.sequence(
            book, self.stopping, book.evals.get(name, {}), book.floor, prefix
        )
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
        book = self._book
        _, damage, floor = assemble.sequence(
            book, self.stopping, book.evals.get(name, {}), book.floor, prefix
        )
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
        return assemble.verdict_cost(self._book, name, probes)

    def history(self, name: str) -> list[float]:
        """Fidelity after each batch of results (`add_many`) that changed this endpoint's score,
        for a sparkline: its resolution is the callers' batch size (the TUI scores 4 at a time)."""
        return list(self._history.get(name, []))

    def endpoint_score(self, name: str) -> EndpointScore:
        """Live score from running sums; the interval is a normal approximation until
        `finalize()`."""
        self._ensure_endpoint(name)
        until_decided = None
        if self.stopping is not None:

            def until_decided() -> stopping.Decision:
                return self.decision(name)

        return assemble.live_score(self._book, name, until_decided)

    def endpoint_scores(self) -> dict[str, EndpointScore]:
        return {name: self.endpoint_score(name) for name in self._book.endpoints}

    def comparison(self, endpoint: str, probe_id: str, sample: int = 0) -> ProbeComparison | None:
        """The candidate's answer to (probe, sample) against the reference's, for highlighting.
        For the reference itself: its answer with its check outcomes (no alignment). None when
        the endpoint has not answered that sample yet."""
        book = self._book
        result = book.main(endpoint, probe_id).get(sample)
        if result is None:
            return None
        probe = book.probes[probe_id]
        facts = book.facts[result.key]
        if endpoint == book.reference:
            comp = ProbeComparison(endpoint, probe_id, sample, PENDING)
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
        ev = book.evals.get(endpoint, {}).get(probe_id)
        if ev is not None and sample in ev.comparisons:
            return ev.comparisons[sample]
        key = (endpoint, sample)
        cache = self._sampled_cmp.setdefault(probe_id, {})
        cached = cache.get(key)
        if cached is None:
            ref = book.main_facts(book.reference or "", probe_id).get(sample)
            cached = compare_pair(probe, ref, facts, self._vocab, self._encoding_hint())
            if is_sampled(probe) and cached.mark == "diverged":
                cached.mark = "pass"  # samples of a distribution are expected to differ
            cached.damage = None  # a sampled probe's damage is its distribution's, not a pair's
            cache[key] = cached
        return cached

    def probe_summary(self, endpoint: str, probe_id: str) -> dict[str, Any] | None:
        """The per-probe row the report would hold for this endpoint (damage, its parts, mark),
        as scored so far; None before the endpoint answered it."""
        ev = self._book.evals.get(endpoint, {}).get(probe_id)
        return None if ev is None else ev.summary()

    def noise_floor(self, probe_id: str) -> float | None:
        """The reference's own damage on this probe (its repeats against its main answer)."""
        return self._book.floor.get(probe_id)

    def probe_marks(self, probe_id: str) -> dict[str, Mark]:
        """Endpoint -> mark ("pass", "fail", "diverged", "error", "pending") for one probe."""
        out: dict[str, Mark] = {}
        for name in self._book.endpoints:
            ev = self._book.evals[name].get(probe_id)
            out[name] = PENDING if ev is None else ev.mark
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
        book = self._book
        fresh = Scorer(
            [book.probes[pid] for pid in book.suite_order()],
            list(book.endpoints.values()),
            encoding=self._preferred_encoding,
            stopping_record=self.stopping,
        )
        fresh.reference = self.reference
        fresh.add_many([r for slot in book.results.values() for r in slot.values()])
        return fresh._paused_report()

    def _paused_report(self) -> ScoreReport:
        paused = gc.isenabled() and sum(len(e) for e in self._book.evals.values()) > 256
        if paused:
            gc.disable()
        try:
            return assemble.report(self._book, self._final_evals(), self.stopping)
        finally:
            if paused:
                gc.enable()

    def _final_evals(self) -> dict[str, dict[str, ProbeEval]]:
        """Each endpoint's evaluations by probe in suite order, a candidate's sampled probes
        redone with the full permutation count."""
        book = self._book
        pids = book.suite_order()
        ref = book.reference
        final: dict[str, dict[str, ProbeEval]] = {}
        for name in book.endpoints:
            per: dict[str, ProbeEval] = {}
            for pid in pids:
                ev = book.evals[name].get(pid)
                if ev is None:
                    continue
                if ev.sampled and name != ref:
                    fresh = self._evaluate(name, pid, PERMUTATIONS)
                    if fresh is None:
                        continue
                    ev = fresh
                per[pid] = ev
            final[name] = per
        return final


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
