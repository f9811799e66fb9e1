"""What every report reads from a snapshot: its scores, the comparisons behind highlighting and
the probes ranked by how far the candidates strayed.

Reports use the scores stored in the snapshot. They are recomputed (with the same code as
`vvtui score`) only when they are missing or out of date, and the report says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vvtui.content import content_text
from vvtui.model import EndpointInfo, Probe, Result, Snapshot

if TYPE_CHECKING:
    from vvtui.scoring import EndpointScore, ProbeComparison, Scorer, ScoreReport


def stale_reason(snapshot: Snapshot) -> str | None:
    """Why the snapshot's stored scores cannot be used as they are, or None when they can."""
    from vvtui.scoring.damage import FORMULA_VERSION
    from vvtui.scoring.report import REPORT_VERSION

    scores = snapshot.scores
    if not scores or not isinstance(scores.get("endpoints"), dict):
        return "the snapshot holds no scores"
    if scores.get("version") != REPORT_VERSION:
        version = scores.get("version")
        return f"stored scores are report v{version}, this vvtui writes v{REPORT_VERSION}"
    formula = (scores.get("meta") or {}).get("formula_version")
    if formula != FORMULA_VERSION:
        return f"stored scores use formula v{formula}, this vvtui v{FORMULA_VERSION}"
    missing = [e.name for e in snapshot.endpoints if e.name not in scores["endpoints"]]
    if missing:
        return "stored scores lack " + ", ".join(missing)
    if snapshot.results and not all(s.get("final") for s in scores["endpoints"].values()):
        return "stored scores are live scores from the middle of a run"
    return None


@dataclass
class ReportData:
    snapshot: Snapshot
    scores: ScoreReport
    # Why the scores were recomputed; None when they are the snapshot's own.
    rescored: str | None = None
    _scorer: Scorer | None = field(default=None, repr=False)
    _main: dict[tuple[str, str, int], Result] = field(default_factory=dict, repr=False)
    _costs: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for r in self.snapshot.results:
            if r.repeat == 0:
                self._main[(r.endpoint, r.probe_id, r.sample)] = r

    # ------------------------------------------------------------------ scores

    @property
    def score_note(self) -> str:
        version = self.scores.meta.get("formula_version")
        if self.rescored is None:
            return f"as stored in the snapshot (formula v{version})"
        return f"recomputed by this vvtui (formula v{version}): {self.rescored}"

    def endpoint_score(self, name: str) -> EndpointScore | None:
        """One endpoint's score, typed; None when the report has none for it."""
        return self.scores.endpoints.get(name)

    @property
    def verdict_costs(self) -> dict[str, Any]:
        """What each verdict cost (vvtui.scoring.decide.costs_to_verdict), computed once."""
        if self._costs is None:
            from vvtui.scoring.decide import costs_to_verdict

            self._costs = costs_to_verdict(self.snapshot, self.scores.to_dict())
        return self._costs

    def probe_summary(self, probe_id: str, endpoint: str) -> dict[str, Any]:
        return self.scores.probes.get(probe_id, {}).get(endpoint, {})

    @property
    def threshold(self) -> float:
        constants = self.scores.meta.get("constants") or {}
        return float(constants.get("threshold", 90.0))

    # ------------------------------------------------------------------ endpoints and probes

    @property
    def reference(self) -> EndpointInfo | None:
        return self.snapshot.reference if self.snapshot.endpoints else None

    @property
    def candidates(self) -> list[EndpointInfo]:
        ref = self.reference
        return [e for e in self.snapshot.endpoints if ref is None or e.name != ref.name]

    def result(self, endpoint: str, probe_id: str, sample: int = 0) -> Result | None:
        """The endpoint's main answer (repeat 0) to one probe and sample."""
        return self._main.get((endpoint, probe_id, sample))

    def samples(self, endpoint: str, probe: Probe) -> list[Result]:
        found = (self._main.get((endpoint, probe.id, s)) for s in range(max(1, probe.n_samples)))
        return [r for r in found if r is not None]

    def scorer(self) -> Scorer:
        """A scorer fed every result of the snapshot (about a second for a full demo run), for
        the alignment spans behind highlighting."""
        if self._scorer is None:
            self._scorer = _feed(self.snapshot)
        return self._scorer

    def comparison(self, endpoint: str, probe_id: str, sample: int = 0) -> ProbeComparison | None:
        try:
            return self.scorer().comparison(endpoint, probe_id, sample)
        except KeyError:
            return None

    def worst_probes(self, limit: int | None = None) -> list[str]:
        """Probes where some candidate diverged, worst first: by the largest damage of a
        candidate that answered (an errored request is counted in the errors column, not here,
        or one failing endpoint would crowd out every real divergence), then by how many
        candidates strayed, then in suite order."""
        ref = self.reference.name if self.reference else None
        ranked = []
        for order, probe in enumerate(self.snapshot.probes):
            row = self.scores.probes.get(probe.id, {})
            worst = 0.0
            strayed = 0
            for ep, summary in row.items():
                if ep == ref or summary.get("mark") in ("error", "pending"):
                    continue
                damage = summary.get("damage") or 0.0
                if strayed_from_reference(summary):
                    strayed += 1
                    worst = max(worst, damage)
            if strayed:
                ranked.append((-worst, -strayed, order, probe.id))
        ranked.sort()
        ids = [pid for *_, pid in ranked]
        return ids if limit is None else ids[:limit]


# Damage below this on a probe whose checks pass is noise in a side-by-side view.
NOTABLE_DAMAGE = 0.05


def strayed_from_reference(summary: dict[str, Any]) -> bool:
    """Whether a candidate's probe summary is worth showing beside the reference."""
    if summary.get("mark") in ("error", "pending"):
        return False
    return (
        summary.get("mark") in ("fail", "diverged")
        or (summary.get("damage") or 0.0) >= NOTABLE_DAMAGE
    )


def _feed(snapshot: Snapshot) -> Scorer:
    from vvtui.scoring import Scorer

    recorded = (snapshot.scores or {}).get("meta") or {}
    encoding = recorded.get("encoding") if isinstance(recorded, dict) else None
    scorer = Scorer(snapshot.probes, snapshot.endpoints, encoding=encoding)
    scorer.add_many(snapshot.results)
    return scorer


def report_data(snapshot: Snapshot) -> ReportData:
    """The snapshot with usable scores: its own, or recomputed when missing or stale."""
    from vvtui.scoring import ScoreReport

    reason = stale_reason(snapshot)
    if reason is None:
        return ReportData(snapshot, ScoreReport.from_dict(snapshot.scores))
    scorer = _feed(snapshot)
    return ReportData(snapshot, scorer.finalize(), rescored=reason, _scorer=scorer)


def prompt_text(probe: Probe) -> str:
    """The probe's messages as plain text, one "role: content" paragraph each."""
    out = []
    for message in probe.messages:
        out.append(f"{message.get('role', '?')}: {content_text(message.get('content'))}")
    return "\n\n".join(out)


def expected_text(probe: Probe) -> str:
    """What a faithful model answers, when the probe says."""
    parts = []
    if probe.answer:
        parts.append(probe.answer)
    for call in probe.answer_tool_calls or []:
        from vvtui.reports.fmt import compact_json

        parts.append(f"→ {call.name}({compact_json(call.arguments)})")
    return "\n".join(parts)


def checks_text(probe: Probe) -> str:
    from vvtui.reports.fmt import compact_json

    return "; ".join(c.type + (" " + compact_json(c.spec) if c.spec else "") for c in probe.checks)


def stored_scores(snapshot: Snapshot) -> dict[str, EndpointScore]:
    """The snapshot's stored endpoint scores as typed records (what the gates, JUnit and diff
    read); an endpoint without one is absent."""
    from vvtui.scoring.report import endpoint_scores

    return endpoint_scores((snapshot.scores or {}).get("endpoints"))
