"""`--until-decided`: the order probes are sent in, when an endpoint has seen enough, and what its
verdict cost. Pure functions over plain data; the runner asks, the scorer answers
(docs/scoring.md#until-decided).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from vvtui.model import Probe, Snapshot, Verdict
from vvtui.scoring import confseq
from vvtui.scoring import damage as dmg

RULE_NAME = "confidence-sequence"
# Probes before an endpoint may be given up on because the rest, looking like the start, would
# not decide it: earlier, one unlucky probe could make a clear case look hopeless.
FUTILITY_AFTER = 30

# Why an endpoint received no more probes.
DECIDED = "decided"  # its confidence sequence cleared the threshold
FUTILE = "futile"  # no outcome of the probes left in its budget could decide it
MAX_PROBES = "max_probes"
MAX_COST = "max_cost"
MAX_TOTAL_COST = "max_total_cost"
EXHAUSTED = "suite_exhausted"  # it was sent every probe: a full run for this endpoint
BUDGET_REASONS = (MAX_PROBES, MAX_COST, MAX_TOTAL_COST)


@dataclass(slots=True)
class StoppingRule:
    """What `--until-decided` stops on; recorded in the snapshot so a re-score repeats it."""

    threshold: float = dmg.THRESHOLD
    alpha: float = confseq.ALPHA
    truncation: float = confseq.TRUNCATION
    min_probes: int = dmg.MIN_PROBES_FOR_VERDICT
    max_probes: int | None = None
    max_cost_usd: float | None = None
    max_total_cost_usd: float | None = None
    # Cheap probes tend to come first (a sampled probe costs n_samples requests).
    cost_weighted_order: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"name": RULE_NAME, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoppingRule:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def probe_requests(probe: Probe) -> int:
    return max(1, probe.n_samples)


def probe_order(probes: Sequence[Probe], seed: int, *, cost_weighted: bool = True) -> list[str]:
    """A seeded random order of probe ids mixing suites and kinds. Cost-weighted, each probe
    draws the key u^(requests) (weighted sampling without replacement, Efraimidis–Spirakis, with
    weight 1/requests): a 10-sample probe lands before a one-request probe 1 time in 11, so cheap
    evidence comes first while every kind still appears throughout."""
    rng = np.random.default_rng([seed, 0x5EED])
    u = rng.random(len(probes))
    if cost_weighted:
        cost = np.array([probe_requests(p) for p in probes], dtype=float)
        keys = np.log(u) * cost  # log of u**cost, exact for tiny values
    else:
        keys = np.log(u)
    # Stable on ties: suite order breaks them.
    order = sorted(range(len(probes)), key=lambda i: (-keys[i], i))
    return [probes[i].id for i in order]


@dataclass(slots=True)
class Decision:
    """Where one endpoint's sequence stands."""

    verdict: Verdict = "inconclusive"  # faithful / degraded / inconclusive
    # Probes (in the order sent) whose damage fed the sequence, and the interval after them.
    n: int = 0
    low: float | None = None  # fidelity, 0-100
    high: float | None = None
    # Probes the sequence needed to clear the threshold (None: it has not).
    decided_after: int | None = None
    futile: bool = False

    @property
    def decided(self) -> bool:
        return self.decided_after is not None

    @property
    def verdict_probe_index(self) -> int:
        """Index in the sequence of the probe that decided it."""
        assert self.decided_after is not None
        return self.decided_after - 1


def decide(
    damage: Sequence[float], floor: Sequence[float], rule: StoppingRule, remaining: int = 0
) -> Decision:
    """The confidence sequence over an endpoint's probes in the order sent, the first probe
    count at which it cleared the threshold, and, when it has not, whether `remaining` more
    probes could still make it (`futile` when not)."""
    cs = confseq.FidelitySequence(alpha=rule.alpha, truncation=rule.truncation)
    out = Decision()
    t = rule.threshold
    for d, d0 in zip(damage, floor, strict=True):
        cs.update(d, d0)
        b = cs.bounds()
        out.n, out.low, out.high = b.n, 100.0 * b.low, 100.0 * b.high
        if out.decided_after is None:
            verdict = dmg.verdict(out.low, out.high, b.n, threshold=t, min_probes=rule.min_probes)
            if verdict != "inconclusive":
                out.decided_after = b.n
                out.verdict = verdict
    if out.decided_after is None and out.n > 0:
        # The interval only narrows, so the first clearing is the verdict; a later one is only
        # possible while probes remain.
        out.futile = is_futile(cs, list(damage), list(floor), rule, remaining)
    return out


def is_futile(
    cs: confseq.FidelitySequence,
    damage: list[float],
    floor: list[float],
    rule: StoppingRule,
    remaining: int,
) -> bool:
    """No point sending more: no outcome of the `remaining` probes could clear the threshold,
    or (after FUTILITY_AFTER probes) the rest would not if it looked like what came so far.
    Stopping is always allowed under a confidence sequence; this only gives up on a verdict."""
    t = rule.threshold / 100.0
    if not confseq.can_still_clear(cs, t, remaining):
        return True
    if cs.n < FUTILITY_AFTER:
        return False
    return not confseq.can_still_clear(cs, t, remaining, (damage, floor))


@dataclass(slots=True)
class VerdictCost:
    """What an endpoint's own requests cost up to its verdict (the reference's are the run's)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float | None = None
    probes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VerdictCost:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(slots=True)
class CostLine:
    """One request's share of a verdict's cost."""

    probe_id: str
    input_tokens: int | None
    output_tokens: int | None
    usd: float | None


def verdict_cost(lines: Sequence[CostLine], probes: Sequence[str] | None) -> VerdictCost:
    """Sum the requests of `probes` (all of the endpoint's requests when None)."""
    keep = None if probes is None else set(probes)
    out = VerdictCost(probes=0 if keep is None else len(keep))
    usd: list[float] = []
    seen: set[str] = set()
    priced = False
    for line in lines:
        if keep is not None and line.probe_id not in keep:
            continue
        seen.add(line.probe_id)
        out.requests += 1
        out.input_tokens += line.input_tokens or 0
        out.output_tokens += line.output_tokens or 0
        if line.usd is not None:
            priced = True
            usd.append(line.usd)
    if keep is None:
        out.probes = len(seen)
    out.usd = math.fsum(usd) if priced else None
    return out


@dataclass(slots=True)
class Stopped:
    """Why an endpoint received no more probes, as the run saw it (recorded in the snapshot)."""

    reason: str
    after_probes: int
    requests: int
    cost_usd: float | None = None
    verdict: Verdict = "inconclusive"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class StoppingRecord:
    """`run.stopping` in a snapshot: the rule, the order probes were sent in, and per endpoint
    why it stopped."""

    rule: StoppingRule = field(default_factory=StoppingRule)
    order: list[str] = field(default_factory=list)
    stopped: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.to_dict(), "order": list(self.order), "stopped": self.stopped}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoppingRecord:
        """Read `run.stopping`; a damaged one is a one-line SnapshotError, not a crash later."""
        from vvtui.errors import SnapshotError

        try:
            rule = StoppingRule.from_dict(data.get("rule") or {})
            for name in ("threshold", "alpha", "truncation"):
                value = getattr(rule, name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"rule.{name} must be a number")
            return cls(
                rule=rule,
                order=[str(x) for x in data.get("order") or []],
                stopped={str(k): dict(v) for k, v in (data.get("stopped") or {}).items()},
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"run.stopping: {exc}") from None


def costs_to_verdict(snapshot: Snapshot, scores: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Per endpoint, the `VerdictCost` of its verdict: what an --until-decided run recorded (up
    to the probe that decided it), else every request it was sent — a full run's verdict needed
    them all. `scores` defaults to the snapshot's stored report."""
    from vvtui.scoring.perf import result_cost

    scores = snapshot.scores if scores is None else scores
    decisions = (scores or {}).get("decisions") or {}
    probes = {p.id: p for p in snapshot.probes}
    lines: dict[str, list[CostLine]] = {e.name: [] for e in snapshot.endpoints}
    prices = {e.name: e.price for e in snapshot.endpoints}
    for r in snapshot.results:
        usd, _ = result_cost(r, prices.get(r.endpoint), probes.get(r.probe_id))
        lines.setdefault(r.endpoint, []).append(
            CostLine(r.probe_id, r.input_tokens, r.output_tokens, usd)
        )
    out: dict[str, Any] = {}
    refs = {e.name for e in snapshot.endpoints if e.reference}
    for name, own in lines.items():
        if name in refs:
            continue  # the reference has no verdict of its own
        recorded = (decisions.get(name) or {}).get("cost_to_verdict")
        out[name] = VerdictCost.from_dict(recorded) if recorded else verdict_cost(own, None)
    return out


def replay(snapshot: Snapshot, rule: StoppingRule, seed: int | None = None) -> Snapshot:
    """What `--until-decided` would have sent, played back over a full run's answers: each
    candidate walks a seeded order and stops as the gate would (decided, futile, probe or USD
    budget), with no requests in flight (so a lower bound on a live run's overshoot). Returns
    the snapshot an --until-decided run would have written, scored. For benchmarks and
    "what would stopping early have saved on this run?"."""
    import dataclasses

    from vvtui.scoring.perf import result_cost
    from vvtui.scoring.scorer import Scorer, score_snapshot

    seed = snapshot.run.seed if seed is None else seed
    order = probe_order(snapshot.probes, seed, cost_weighted=rule.cost_weighted_order)
    record = StoppingRecord(rule=rule, order=order)
    ref = snapshot.reference.name
    probes = {p.id: p for p in snapshot.probes}
    prices = {e.name: e.price for e in snapshot.endpoints}
    by_key: dict[tuple[str, str], list[Any]] = {}
    for r in snapshot.results:
        by_key.setdefault((r.endpoint, r.probe_id), []).append(r)
    # Every answer at once: a probe's damage does not depend on which others were sent, so the
    # sequence of a prefix is the prefix of the whole sequence.
    scorer = Scorer(snapshot.probes, snapshot.endpoints, stopping_record=record)
    scorer.add_many(snapshot.results)
    limit = len(order) if rule.max_probes is None else min(len(order), rule.max_probes)
    kept: list[Any] = []
    asked: set[str] = set()
    for e in snapshot.endpoints:
        if e.name == ref:
            continue
        pids, damage, floor = scorer.sequence(e.name)
        position = {pid: k for k, pid in enumerate(pids)}
        cs = confseq.FidelitySequence(alpha=rule.alpha, truncation=rule.truncation)
        spent: list[float] = []
        stop = Stopped(reason=EXHAUSTED, after_probes=len(order), requests=0)
        for n, pid in enumerate(order, start=1):
            own = by_key.get((e.name, pid), [])
            costs = [result_cost(r, prices.get(e.name), probes.get(pid))[0] or 0.0 for r in own]
            if rule.max_cost_usd is not None and math.fsum(spent + costs) > rule.max_cost_usd:
                stop = Stopped(MAX_COST, n - 1, stop.requests)
                break
            spent += costs
            kept += own
            asked.add(pid)
            stop.requests += len(own)
            k = position.get(pid)
            if k is not None:
                cs.update(damage[k], floor[k])
            b = cs.bounds()
            verdict = dmg.verdict(
                100 * b.low, 100 * b.high, b.n, threshold=rule.threshold, min_probes=rule.min_probes
            )
            if verdict != "inconclusive":
                stop = Stopped(DECIDED, n, stop.requests, verdict=verdict)
                break
            if n >= limit and n < len(order):
                stop = Stopped(MAX_PROBES, n, stop.requests)
                break
            left = max(0, limit - n)
            seen = (damage[: cs.n], floor[: cs.n])
            if (
                b.n
                and is_futile(cs, *seen, rule, left)
                and not (
                    limit == len(order) and scorer.full_run_could_decide(e.name, n, len(order))
                )
            ):
                stop = Stopped(FUTILE, n, stop.requests)
                break
        stop.cost_usd = math.fsum(spent) if spent else None
        record.stopped[e.name] = stop.to_dict()
    kept += [r for r in snapshot.results if r.endpoint == ref and r.probe_id in asked]
    run = dataclasses.replace(snapshot.run, stopping=record.to_dict())
    out = dataclasses.replace(snapshot, run=run, results=kept)
    out.scores = score_snapshot(out).to_dict()
    return out
