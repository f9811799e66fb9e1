"""The TUI's picture of a run, as plain objects (no Textual): live answers, finished results, the
incremental Scorer and the scores it reports.

The runner's callback feeds `RunModel.on_event` on the app's loop; it only appends to buffers and
marks things dirty (O(event)). Widgets read the model on a frame timer. Scoring happens in
`score_pending`, in bounded slices, so a burst of results never stalls the loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import cast

from vvtui.model import (
    PENDING,
    EndpointInfo,
    Mark,
    Probe,
    Result,
    RunPhase,
    SlotState,
    Snapshot,
    Verdict,
)
from vvtui.runner.events import (
    ConformanceReady,
    EndpointState,
    EndpointStopped,
    RequestStarted,
    ResultReady,
    RunEvent,
    RunFinished,
    RunStarted,
    StreamEvent,
)
from vvtui.runner.tally import FailureTally
from vvtui.scoring import EndpointScore, ProbeComparison, Scorer, ScoreReport
from vvtui.scoring import decide as rules
from vvtui.scoring.compare import is_sampled
from vvtui.scoring.inspect import Inspection, inspect_comparison
from vvtui.tui.document import LiveText
from vvtui.untrusted import shown


def _usd(value: float | None) -> str:
    from vvtui.tui.format import cost

    return cost(value)


# (endpoint, probe id, sample): one answer a pane can show. Reference repeats are scored, not shown.
Slot = tuple[str, str, int]


@dataclass(slots=True)
class SlotStatus:
    """What a pane header says about one answer."""

    state: SlotState
    detail: str = ""


@dataclass
class EndpointProgress:
    done: int = 0
    total: int = 0
    errors: int = 0
    in_flight: int = 0
    # Why the endpoint is down (its circuit breaker is open), or None.
    down: str | None = None


@dataclass
class RunModel:
    probes: list[Probe]
    endpoints: list[EndpointInfo]
    # --until-decided: the rule and order (vvtui.scoring.decide.StoppingRecord); None otherwise.
    stopping: rules.StoppingRecord | None = None

    scorer: Scorer = field(init=False)
    reference: str = field(init=False)
    phase: RunPhase = "idle"
    # The run's conformance checks are under way (before the first probe).
    checking: bool = False
    done: int = 0
    total: int = 0
    results: dict[Slot, Result] = field(default_factory=dict)
    streams: dict[Slot, LiveText] = field(default_factory=dict)
    progress: dict[str, EndpointProgress] = field(default_factory=dict)
    # Latest scores per endpoint: live while running, the final report's once scored.
    scores: dict[str, EndpointScore] = field(default_factory=dict)
    final: ScoreReport | None = None
    # Results received but not yet given to the Scorer.
    unscored: list[Result] = field(default_factory=list)
    # What changed since widgets last looked (they clear these).
    dirty_slots: set[Slot] = field(default_factory=set)
    dirty_probes: set[str] = field(default_factory=set)
    dirty_endpoints: set[str] = field(default_factory=set)
    # The probe the reference started most recently (what "follow" shows).
    frontier: str | None = None
    # Results added since the last time they were saved or exported.
    unsaved: int = 0
    # Every result received, reference repeats included: what a snapshot of the run holds.
    gathered: int = 0
    error: str | None = None
    # Failures per endpoint and cause, with counts (what a pane shows instead of one per request).
    tally: FailureTally = field(default_factory=FailureTally)
    # --until-decided: why each endpoint stopped receiving probes, as the runner said.
    stopped: dict[str, rules.Stopped] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scorer = Scorer(self.probes, self.endpoints, stopping_record=self.stopping)
        self._unscored_keys: set[tuple[str, str, int, int]] = set()
        self.reference = self.scorer.reference or (self.endpoints[0].name if self.endpoints else "")
        self.probe_by_id = {p.id: p for p in self.probes}
        self.probe_ids = [p.id for p in self.probes]
        self.endpoint_names = [e.name for e in self.endpoints]
        self.progress = {name: EndpointProgress() for name in self.endpoint_names}
        self.scores = {
            name: EndpointScore(name=name, reference=name == self.reference)
            for name in self.endpoint_names
        }
        self.scores[self.reference].verdict = "reference"

    # ------------------------------------------------------------------ feeding

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> RunModel:
        """A finished (or partial) run read back from a snapshot, for replay."""
        record = snapshot.run.stopping
        stopping = rules.StoppingRecord.from_dict(record) if record else None
        model = cls(list(snapshot.probes), list(snapshot.endpoints), stopping)
        if stopping is not None:
            for name, stop in stopping.stopped.items():
                model.stopped[name] = rules.Stopped(
                    reason=str(stop.get("reason")),
                    after_probes=int(stop.get("after_probes") or 0),
                    requests=int(stop.get("requests") or 0),
                    cost_usd=stop.get("cost_usd"),
                    # As the run recorded it (a snapshot's JSON), like the report's verdicts.
                    verdict=cast(Verdict, str(stop.get("verdict") or "inconclusive")),
                )
        model.total = len(snapshot.results)
        for result in snapshot.results:
            model._store(result)
        model.done = len(snapshot.results)
        model.unsaved = 0
        model.score_pending(budget_s=None)
        if snapshot.scores:
            model.set_final(ScoreReport.from_dict(snapshot.scores))
        model.phase = "finished" if snapshot.run.complete else "cancelled"
        return model

    def on_event(self, event: RunEvent) -> None:
        """The runner's callback: O(size of the event), no scoring, no drawing."""
        if isinstance(event, StreamEvent):
            key = event.key
            if key.repeat:
                return
            slot = (key.endpoint, key.probe_id, key.sample)
            stream = self.streams.get(slot)
            if stream is None:
                stream = self.streams[slot] = LiveText()
            stream.feed(event.event)
            self.dirty_slots.add(slot)
        elif isinstance(event, RequestStarted):
            key = event.key
            prog = self.progress.get(key.endpoint)
            if prog is not None:
                prog.in_flight += 1
            if key.repeat:
                return
            slot = (key.endpoint, key.probe_id, key.sample)
            self.streams[slot] = LiveText()
            self.dirty_slots.add(slot)
            if key.endpoint == self.reference:
                self.frontier = key.probe_id
        elif isinstance(event, ResultReady):
            result = event.result
            prog = self.progress.get(result.endpoint)
            if prog is not None:
                prog.in_flight = max(0, prog.in_flight - 1)
            self._store(result)
            self.done = event.done
            self.total = max(self.total, event.total)
        elif isinstance(event, EndpointState):
            prog = self.progress.get(event.endpoint)
            if prog is not None:
                prog.down = event.reason if event.down else None
            self.tally.set_down(event.endpoint, event.reason if event.down else None)
            self.dirty_endpoints.add(event.endpoint)
        elif isinstance(event, RunStarted):
            self.checking = False
            self.start(event.total, event.per_endpoint)
            for result in event.resumed:
                self._store(result)
        elif isinstance(event, ConformanceReady):
            self.checking = False
            # The same EndpointInfo objects the scorer and the panes hold: they see it at once.
            for info in self.endpoints:
                info.conformance = dict(event.records.get(info.name) or {})
            if self.final is None:
                # Once, before any result: cheap, and the verdicts may now be gated.
                for name in self.endpoint_names:
                    self.scores[name] = self.scorer.endpoint_score(name)
            self.dirty_endpoints.update(self.endpoint_names)
        elif isinstance(event, EndpointStopped):
            self.stopped[event.endpoint] = rules.Stopped(
                event.reason, event.after_probes, event.requests, event.cost_usd, event.verdict
            )
            self.dirty_endpoints.add(event.endpoint)
        elif isinstance(event, RunFinished):
            self.phase = "cancelled" if event.cancelled else "scoring"
            for prog in self.progress.values():
                prog.in_flight = 0
            self.streams.clear()

    def start(self, total: int, per_endpoint: dict[str, int]) -> None:
        self.phase = "running"
        self.total = total
        self.done = 0
        for name, n in per_endpoint.items():
            prog = self.progress.setdefault(name, EndpointProgress())
            prog.total += n

    def _store(self, result: Result) -> None:
        self.unscored.append(result)
        self._unscored_keys.add(result.key)
        self.unsaved += 1
        self.gathered += 1
        prog = self.progress.get(result.endpoint)
        if prog is not None:
            prog.done += 1
            if result.error is not None:
                prog.errors += 1
        if self.tally.add(result) is not None:
            self.dirty_endpoints.add(result.endpoint)
        if result.repeat:
            return
        slot = (result.endpoint, result.probe_id, result.sample)
        self.results[slot] = result
        self.streams.pop(slot, None)
        self.dirty_slots.add(slot)

    # ------------------------------------------------------------------ scoring

    def score_pending(self, budget_s: float | None = 0.02) -> bool:
        """Give queued results to the Scorer until `budget_s` of CPU is spent (None: all).
        Returns True when scores changed."""
        if not self.unscored:
            return False
        started = time.perf_counter()
        changed: set[str] = set()
        probes: set[str] = set()
        while self.unscored:
            # Small batches: the Scorer batches logprob work, and a slice stays short (8 with
            # top-5 logprobs overran a 20 ms slice to ~40 ms on the benchmark machine).
            batch, self.unscored = self.unscored[:4], self.unscored[4:]
            changed |= self.scorer.add_many(batch)
            for result in batch:
                probes.add(result.probe_id)
                self._unscored_keys.discard(result.key)
            if budget_s is not None and time.perf_counter() - started > budget_s:
                break
        if self.final is None:
            for name in changed:
                self.scores[name] = self.scorer.endpoint_score(name)
        self.dirty_endpoints |= changed
        self.dirty_probes |= probes
        # A reference answer changes every candidate's comparison on that probe.
        for pid in probes:
            for name in self.endpoint_names:
                for sample in range(max(1, self.probe_by_id[pid].n_samples)):
                    if (name, pid, sample) in self.results:
                        self.dirty_slots.add((name, pid, sample))
        return True

    def set_final(self, report: ScoreReport) -> None:
        """The canonical scores of the finished run (what the snapshot holds)."""
        self.final = report
        for name, score in report.endpoints.items():
            self.scores[name] = score
        self.dirty_endpoints |= set(self.endpoint_names)
        self.dirty_probes |= set(self.probe_ids)

    # ------------------------------------------------------------------ queries

    def marks(self, probe_id: str) -> dict[str, Mark]:
        """Endpoint -> pass | fail | diverged | error | pending for one probe."""
        if self.final is not None:
            # The final report's probe summaries are JSON-shaped; the scorer wrote these marks.
            row = self.final.probes.get(probe_id, {})
            return {
                name: cast(Mark, str(row.get(name, {}).get("mark", PENDING)))
                for name in self.endpoint_names
            }
        return self.scorer.probe_marks(probe_id)

    def comparison(self, endpoint: str, probe_id: str, sample: int = 0) -> ProbeComparison | None:
        """The Scorer's comparison of this answer with the reference's; None until both are
        scored (scoring them here would stall the frame; the slot is redrawn once they are)."""
        for name in (endpoint, self.reference):
            result = self.results.get((name, probe_id, sample))
            if result is not None and result.key in self._unscored_keys:
                return None
        return self.scorer.comparison(endpoint, probe_id, sample)

    def trouble(self, endpoint: str) -> tuple[str, bool] | None:
        """What went wrong on this endpoint, one short line ("down after 3 consecutive stalls ·
        stall ×3, not sent ×9" or "DNS error ×50"), and whether it is down; None if nothing."""
        summary = self.tally.summary(endpoint)
        prog = self.progress.get(endpoint)
        if prog is not None and prog.down:
            return (f"down after {prog.down}" + (f" · {summary}" if summary else ""), True)
        return (summary, False) if summary else None

    def inspection(self, endpoint: str, probe_id: str, sample: int = 0) -> Inspection | None:
        """The scoring core's breakdown of this answer against the reference's, for the
        inspector; None until it is scored. The per-probe row is the final report's once the
        run is scored (the numbers the snapshot holds), the live Scorer's before."""
        comparison = self.comparison(endpoint, probe_id, sample)
        result = self.results.get((endpoint, probe_id, sample))
        if comparison is None or result is None:
            return None
        summary = None
        if self.final is not None:
            summary = self.final.probes.get(probe_id, {}).get(endpoint)
        if summary is None:
            summary = self.scorer.probe_summary(endpoint, probe_id)
        probe = self.probe_by_id[probe_id]
        return inspect_comparison(
            comparison,
            self.results.get((self.reference, probe_id, sample)),
            result,
            summary=summary,
            noise_floor=self.scorer.noise_floor(probe_id),
            samples=max(1, probe.n_samples),
            sampled=is_sampled(probe),
        )

    def history(self, endpoint: str) -> list[float]:
        return self.scorer.history(endpoint)

    @property
    def until_decided(self) -> bool:
        return self.stopping is not None

    def decision_note(self, endpoint: str) -> str | None:
        """What a pane says about an --until-decided endpoint: what its verdict cost once
        decided, why it stopped otherwise, how far it has got while it runs."""
        notes = self.decision_notes(endpoint)
        return notes[0] if notes else None

    def decision_notes(self, endpoint: str) -> list[str]:
        """`decision_note` and shorter forms of it, longest first, for narrow panes."""
        if self.stopping is None or endpoint == self.reference:
            return []
        final = self.final.decisions.get(endpoint) if self.final is not None else None
        stop = self.stopped.get(endpoint)
        if final is not None and final.get("decided_after") is not None:
            n = final["decided_after"]
            usd = _usd((final.get("cost_to_verdict") or {}).get("usd"))
            return [
                f"decided after {n} probes, {usd}",
                f"decided: {n} probes, {usd}",
                f"decided in {n}, {usd}",
            ]
        if stop is None:
            if self.final is not None:
                return ["stopped: " + self.scores[endpoint].verdict]
            score = self.scores.get(endpoint)
            n = score.n_probes if score is not None else 0
            return [f"deciding: {n} probes so far", f"deciding: {n} probes"]
        if stop.reason == rules.DECIDED:
            n, usd = stop.after_probes, _usd(stop.cost_usd)
            return [
                f"decided after {n} probes, {usd}",
                f"decided: {n} probes, {usd}",
                f"decided in {n}, {usd}",
            ]
        if stop.reason in rules.BUDGET_REASONS:
            return ["budget spent: inconclusive", "budget spent"]
        if stop.reason == rules.FUTILE:
            return ["budget cannot decide: inconclusive", "undecidable in budget", "undecidable"]
        verdict = self.scores[endpoint].verdict if self.final is not None else "scoring"
        return [f"sent every probe: {verdict}", f"all probes: {verdict}"]

    def slot_status(self, slot: Slot) -> SlotStatus:
        result = self.results.get(slot)
        if result is not None:
            if result.error is not None:
                return SlotStatus("error", shown(f"{result.error.kind}: {result.error.message}"))
            return SlotStatus("done")
        stream = self.streams.get(slot)
        if stream is not None:
            if stream.failed is not None:
                err = stream.failed
                return SlotStatus("error", shown(f"{err.kind}: {err.message}"))
            if stream.retry:
                return SlotStatus("retrying", stream.retry)
            if stream.tokens == 0:
                if stream.reasoning_chars:
                    return SlotStatus("streaming", f"thinking, {stream.reasoning_chars} chars")
                return SlotStatus("streaming", "…")
            return SlotStatus("streaming", f"{stream.tokens} tok")
        if self.phase == "cancelled":
            return SlotStatus("cancelled", "not asked: the run was cancelled")
        return SlotStatus("waiting")

    def reference_text(self, probe_id: str, sample: int = 0) -> str | None:
        slot = (self.reference, probe_id, sample)
        result = self.results.get(slot)
        if result is not None:
            return result.text
        stream = self.streams.get(slot)
        return None if stream is None else stream.answer()

    def probe_done(self, probe_id: str) -> bool:
        """Every endpoint has answered sample 0 of this probe."""
        return all((name, probe_id, 0) in self.results for name in self.endpoint_names)

    @property
    def running(self) -> bool:
        return self.phase == "running"
