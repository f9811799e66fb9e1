"""`--until-decided`: the gate the runner asks before each request.

An endpoint walks the probes in the plan's seeded order and receives no more once the scoring
core says its confidence sequence has cleared the threshold, that no probe left in its budget
could decide it, or that a budget (probes, its USD, the run's USD) is spent. The reference
answers a probe only when some candidate was sent it. The decisions themselves are
`vvtui.scoring.decide`'s; this module only keeps the books (what was sent, what is answered,
what was spent).
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Callable, Iterable

from vvtui.model import Result, Verdict
from vvtui.runner.events import EndpointStopped, JobKey, RunEvent
from vvtui.runner.plan import RunPlan
from vvtui.scoring import Scorer
from vvtui.scoring import decide as rules
from vvtui.scoring.perf import result_cost

# A waiting worker re-checks at least this often (a safety net: every change also wakes it).
_RECHECK_S = 1.0


class UntilDecided:
    def __init__(self, plan: RunPlan, rule: rules.StoppingRule) -> None:
        assert plan.order is not None, "an --until-decided plan has an order"
        self.plan = plan
        self.rule = rule
        self.order = list(plan.order)
        self.index = {pid: i for i, pid in enumerate(self.order)}
        self.reference = plan.reference.name
        self.candidates = [e.name for e in plan.endpoints if e.name != self.reference]
        self.endpoints = {e.name: e for e in plan.endpoints}
        probes = {p.id: p for p in plan.probes}
        self.probes = probes
        self.record = rules.StoppingRecord(rule=rule, order=self.order)
        self.scorer = Scorer(
            plan.probes, [e.info() for e in plan.endpoints], stopping_record=self.record
        )
        self._need = {pid: max(1, p.n_samples) for pid, p in probes.items()}
        self._need_ref = {
            pid: self._need[pid] + (plan.reference_repeats if p.deterministic else 0)
            for pid, p in probes.items()
        }
        self._done: Counter[tuple[str, str]] = Counter()
        self._admitted: dict[str, set[str]] = {e: set() for e in self.endpoints}
        self._furthest: dict[str, int] = dict.fromkeys(self.endpoints, -1)
        self._prefix: dict[str, int] = dict.fromkeys(self.candidates, 0)
        self._sent: Counter[str] = Counter()
        self._spent: dict[str, list[float]] = {e: [] for e in self.endpoints}
        self.stopped: dict[str, rules.Stopped] = {}
        self._emit: Callable[[RunEvent], None] = lambda event: None
        self._changed: asyncio.Event | None = None

    # ----------------------------------------------------------------------------- runner API

    def bind(self, emit: Callable[[RunEvent], None]) -> None:
        self._emit = emit

    def preload(self, results: Iterable[Result]) -> None:
        """Results of a resumed run: already sent and answered."""
        for result in results:
            if result.probe_id in self.index:
                self._admit_probe(result.endpoint, result.probe_id)
                self._sent[result.endpoint] += 1
                self.observe(result)

    async def admit(self, job: JobKey) -> bool:
        if job.probe_id not in self.index:
            return True
        if job.endpoint == self.reference:
            ok = await self._admit_reference(job)
        else:
            ok = await self._admit_candidate(job)
        if ok:
            self._sent[job.endpoint] += 1
        return ok

    def observe(self, result: Result) -> None:
        ep, pid = result.endpoint, result.probe_id
        self._done[(ep, pid)] += 1
        info = self.endpoints.get(ep)
        cost, _ = result_cost(result, info.price if info else None, self.probes.get(pid))
        if cost is not None:
            self._spent[ep].append(cost)
        self.scorer.add(result)
        for name in self.candidates:
            if name not in self.stopped:
                self._advance(name)
        self._wake()

    def finish(self) -> rules.StoppingRecord:
        """The record for the snapshot: every endpoint's reason, with what it was sent."""
        for name in self.candidates:
            if name not in self.stopped:
                self._stop(name, rules.EXHAUSTED, emit=False)
        for name, stop in self.stopped.items():
            stop.requests = self._sent[name]
            stop.cost_usd = self.spent(name)
        self.record.stopped = {name: s.to_dict() for name, s in self.stopped.items()}
        return self.record

    # ----------------------------------------------------------------------------- books

    def spent(self, name: str) -> float | None:
        costs = self._spent.get(name) or []
        return math.fsum(costs) if costs else None

    def _total_spent(self) -> float:
        return math.fsum(c for costs in self._spent.values() for c in costs)

    def _unit_cost(self, name: str) -> float:
        """Expected USD of one more request to `name`: its mean so far (0 before any)."""
        costs = self._spent.get(name) or []
        return math.fsum(costs) / len(costs) if costs else 0.0

    def _resolved(self, name: str, pid: str) -> bool:
        return (
            self._done[(name, pid)] >= self._need[pid]
            and self._done[(self.reference, pid)] >= self._need_ref[pid]
        )

    def _advance(self, name: str) -> None:
        before = self._prefix[name]
        n = before
        while n < len(self.order) and self._resolved(name, self.order[n]):
            n += 1
        if n == before:
            return
        self._prefix[name] = n
        remaining = len(self.order) - n
        if self.rule.max_probes is not None:
            # Probes past the prefix, in flight or not yet sent, that the budget still allows.
            remaining = min(remaining, self.rule.max_probes - n)
        decision = self.scorer.decision(name, prefix=n, remaining=max(0, remaining))
        if decision.decided:
            self._stop(name, rules.DECIDED, verdict=decision.verdict)
        elif decision.futile and not self._full_run_possible(name, n):
            self._stop(name, rules.FUTILE)

    def _full_run_possible(self, name: str, prefix: int) -> bool:
        """Whether this endpoint may still be sent the whole suite, whose verdict is then the
        full run's (bootstrap): worth going on for when that verdict could be decisive."""
        if self.rule.max_probes is not None and self.rule.max_probes < len(self.order):
            return False
        return self.scorer.full_run_could_decide(name, prefix, len(self.order))

    def _stop(
        self, name: str, reason: str, *, verdict: Verdict = "inconclusive", emit: bool = True
    ):
        stop = rules.Stopped(
            reason=reason,
            after_probes=self._prefix.get(name, 0),
            requests=self._sent[name],
            cost_usd=self.spent(name),
            verdict=verdict,
        )
        self.stopped[name] = stop
        if emit:
            self._emit(
                EndpointStopped(
                    name, reason, stop.after_probes, stop.requests, stop.cost_usd, verdict
                )
            )
        self._wake()

    def _admit_probe(self, name: str, pid: str) -> None:
        self._admitted[name].add(pid)
        self._furthest[name] = max(self._furthest[name], self.index[pid])

    # ----------------------------------------------------------------------------- admission

    async def _admit_candidate(self, job: JobKey) -> bool:
        name, pid = job.endpoint, job.probe_id
        window = max(1, self.endpoints[name].max_concurrency)
        while True:
            if name in self.stopped:
                return False
            if pid in self._admitted[name]:
                return True  # the rest of a sampled probe already begun
            ahead = self._unjudged_requests(name)
            # In order: a later probe overtaking a waiting one would fill the window and leave
            # the earlier one (and so the judged prefix) stuck behind it.
            next_up = self.index[pid] <= self._furthest[name] + 1
            if next_up and (ahead == 0 or ahead + self._need[pid] <= window):
                break
            # Ahead of the evidence by a full window of requests (a 10-sample probe fills it
            # alone): wait for answers before paying for more.
            await self._wait()
        reason = self._over_budget(name, pid)
        if reason is not None:
            self._stop(name, reason)
            return False
        self._admit_probe(name, pid)
        self._wake()
        return True

    def _unjudged_requests(self, name: str) -> int:
        """Requests of the probes sent to `name` beyond the prefix it has been judged on."""
        judged = self._prefix[name]
        return sum(self._need[p] for p in self._admitted[name] if self.index[p] >= judged)

    def _over_budget(self, name: str, pid: str) -> str | None:
        rule = self.rule
        if rule.max_probes is not None and len(self._admitted[name]) >= rule.max_probes:
            return rules.MAX_PROBES
        requests = self._need[pid]
        in_flight = self._sent[name] - sum(self._done[(name, p)] for p in self._admitted[name])
        expected = self._unit_cost(name) * (requests + in_flight)
        if rule.max_cost_usd is not None and (self.spent(name) or 0.0) + expected > (
            rule.max_cost_usd
        ):
            return rules.MAX_COST
        if rule.max_total_cost_usd is not None:
            ref_next = self._unit_cost(self.reference) * self._need_ref[pid]
            if self._total_spent() + expected + ref_next > rule.max_total_cost_usd:
                return rules.MAX_TOTAL_COST
        return None

    async def _admit_reference(self, job: JobKey) -> bool:
        pid = job.probe_id
        idx = self.index[pid]
        while True:
            if pid in self._admitted[self.reference]:
                return True
            if any(self._furthest[c] >= idx for c in self.candidates):
                self._admit_probe(self.reference, pid)
                return True
            if all(c in self.stopped for c in self.candidates):
                return False
            await self._wait()

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _wait(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        try:
            await asyncio.wait_for(self._changed.wait(), _RECHECK_S)
        except TimeoutError:
            pass
