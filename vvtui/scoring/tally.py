"""The scorer's incremental bookkeeping: every result received, each (endpoint, probe)'s current
evaluation, the reference's noise floor per probe, and per-endpoint running sums kept in step
with them, so a live score is O(1) and a new result retracts only what it replaces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vvtui.model import EndpointInfo, Probe, Result
from vvtui.scoring import damage as dmg
from vvtui.scoring import tools as toolcalls
from vvtui.scoring.compare import ResultFacts
from vvtui.scoring.metrics import SUMMED, ZEROS, ProbeEval
from vvtui.scoring.perf import PerfAgg


class Sums:
    """The table's pooled sums (metrics.METRICS), one attribute per summed ProbeEval field."""

    __slots__ = SUMMED

    def __init__(self) -> None:
        for name, zero in ZEROS.items():
            setattr(self, name, zero)

    def __getitem__(self, name: str) -> float:
        value: float = getattr(self, name)
        return value

    def as_dict(self) -> dict[str, float]:
        return {name: self[name] for name in SUMMED}


def _compile_adder(names: tuple[str, ...]) -> Callable[[Sums, ProbeEval, int], None]:
    """`sums.name += sign * ev.name` for each name, as straight-line code (the way dataclasses
    writes its __init__): a re-score applies tens of thousands of evaluations, and a loop over
    the table would more than double what keeping these sums costs. The names are the table's,
    never input."""
    assert all(name.isidentifier() for name in names)
    body = "".join(f"    sums.{name} += sign * ev.{name}\n" for name in names) or "    pass\n"
    namespace: dict[str, Any] = {}
    exec(f"def add(sums, ev, sign):\n{body}", namespace)
    adder: Callable[[Sums, ProbeEval, int], None] = namespace["add"]
    return adder


_add_summed = _compile_adder(SUMMED)


class Tally:
    """Running sums of one endpoint's probe evaluations (add with sign +1, retract with -1).

    The table's sums (`metrics.METRICS`) are in `sums`. Kept explicit, as none pools like a
    table entry: damage and floor (the floor is the reference's on that probe, passed in, and
    sampled probes take none), damage parts (a dict, each part's mean over the probes that
    measured it), tool calls (a confusion matrix whose ratios are its own) and refusals (a set
    of features per probe, counted by feature).
    """

    __slots__ = (
        "gaps",
        "n",
        "n_floor",
        "n_imputed",
        "part_n",
        "part_sum",
        "refused",
        "sum_d",
        "sum_d2",
        "sum_floor",
        "sums",
        "tool",
    )

    def __init__(self) -> None:
        self.n = 0
        self.sum_d = 0.0
        self.sum_d2 = 0.0
        self.n_floor = 0
        self.sum_floor = 0.0
        self.n_imputed = 0
        self.sums = Sums()
        self.tool = toolcalls.ToolConfusion()
        self.part_sum: dict[str, float] = dict.fromkeys(dmg.PARTS, 0.0)
        self.part_n: dict[str, int] = dict.fromkeys(dmg.PARTS, 0)
        self.refused = 0
        self.gaps: dict[str, int] = {}

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
        _add_summed(self.sums, ev, sign)
        self.tool.add(ev.tool, sign)
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


@dataclass(slots=True)
class Ledger:
    """Everything a scorer has received and its current evaluations (see module docstring)."""

    probes: dict[str, Probe] = field(default_factory=dict)
    # probe id -> its place in suite order
    order: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, EndpointInfo] = field(default_factory=dict)
    reference: str | None = None
    # (endpoint, probe) -> (sample, repeat) -> Result
    results: dict[tuple[str, str], dict[tuple[int, int], Result]] = field(default_factory=dict)
    facts: dict[tuple[str, str, int, int], ResultFacts] = field(default_factory=dict)
    evals: dict[str, dict[str, ProbeEval]] = field(default_factory=dict)
    # probe -> the reference's noise floor on it (None: not measured)
    floor: dict[str, float | None] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    perf: dict[str, PerfAgg] = field(default_factory=dict)
    # endpoint -> how many times its evaluations or floors changed (a cache key)
    changes: dict[str, int] = field(default_factory=dict)

    def add_probe(self, probe: Probe) -> None:
        if probe.id not in self.probes:
            self.order[probe.id] = len(self.order)
        self.probes[probe.id] = probe

    def ensure_endpoint(self, name: str) -> bool:
        """Make room for an endpoint; True when it was new."""
        if name in self.tallies:  # known: nothing to create (this runs once per result)
            return False
        if name not in self.endpoints:
            self.endpoints[name] = EndpointInfo(name=name, model="", base_url="")
            if self.reference is None:
                self.reference = name
        self.evals.setdefault(name, {})
        self.tallies.setdefault(name, Tally())
        self.perf.setdefault(name, PerfAgg())
        return True

    def suite_order(self) -> list[str]:
        return sorted(self.probes, key=self.order.__getitem__)

    def store(self, result: Result) -> None:
        """Keep a result (replacing one with its key) and its facts and cost."""
        ep, pid = result.endpoint, result.probe_id
        self.ensure_endpoint(ep)
        if pid not in self.probes:
            self.add_probe(Probe(id=pid))
        probe = self.probes[pid]
        slot = self.results.setdefault((ep, pid), {})
        key = (result.sample, result.repeat)
        perf = self.perf[ep]
        old = slot.get(key)
        if old is not None:
            perf.remove(old)
        slot[key] = result
        self.facts[result.key] = ResultFacts(probe, result)
        perf.add(result, self.endpoints[ep].price, probe)

    def main(self, ep: str, pid: str) -> dict[int, Result]:
        """An endpoint's main answers (repeat 0) to a probe, by sample."""
        slot = self.results.get((ep, pid), {})
        return {s: r for (s, rep), r in slot.items() if rep == 0}

    def main_facts(self, ep: str, pid: str) -> dict[int, ResultFacts]:
        facts = self.facts
        slot = self.results.get((ep, pid), {})
        return {s: facts[r.key] for (s, rep), r in slot.items() if rep == 0}

    def slot_facts(self, ep: str, pid: str) -> dict[tuple[int, int], ResultFacts]:
        """Every answer (all samples and repeats) of an endpoint to a probe."""
        facts = self.facts
        return {k: facts[r.key] for k, r in self.results.get((ep, pid), {}).items()}

    def install(self, ep: str, pid: str, new: ProbeEval | None) -> None:
        """Swap (endpoint, probe)'s evaluation, keeping the running sums in step."""
        evals = self.evals[ep]
        tally = self.tallies[ep]
        self.changes[ep] = self.changes.get(ep, 0) + 1
        # The reference's own evaluations carry no damage, hence no floor.
        floor = None if ep == self.reference else self.floor.get(pid)
        old = evals.get(pid)
        if old is not None:
            tally.apply(old, floor, -1)
        if new is None:
            evals.pop(pid, None)
            return
        evals[pid] = new
        tally.apply(new, floor, +1)

    def update_floor(self, pid: str) -> None:
        """Take the reference's current floor on a probe, re-weighing every candidate's sums."""
        ref = self.reference
        ref_eval = self.evals.get(ref or "", {}).get(pid)
        new = None if ref_eval is None else ref_eval.floor
        old = self.floor.get(pid)
        if new == old:
            return
        for ep, evals in self.evals.items():
            ev = evals.get(pid)
            if ep == ref or ev is None:
                continue
            self.tallies[ep].apply(ev, old, -1)
            self.tallies[ep].apply(ev, new, +1)
            self.changes[ep] = self.changes.get(ep, 0) + 1
        self.floor[pid] = new

    def reference_answered(self) -> bool:
        evals = self.evals.get(self.reference or "", {})
        return any(ev.mark not in ("error", "pending") for ev in evals.values())
