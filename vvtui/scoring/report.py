"""Score records: `EndpointScore` per endpoint and the `ScoreReport` stored in `Snapshot.scores`.

Everything here is plain JSON-able data (no tuples, no NaN), so a report survives
to_dict -> JSON -> from_dict unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from vvtui.model import NO_ANSWERS, ErrorKind, Verdict

REPORT_VERSION = 1
# Error kinds that are not an endpoint's doing: only these, and it was not measured, not silent.
NOT_ITS_DOING: frozenset[ErrorKind] = frozenset({"unsupported", "cancelled"})


@dataclass(slots=True)
class EndpointScore:
    """One endpoint's scores against the reference. None wherever a part was not measurable."""

    name: str
    reference: bool = False
    # False while a run is in progress (cheap interval); True after `finalize()` (bootstrap).
    final: bool = False
    fidelity: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    verdict: Verdict = "inconclusive"
    # Probes whose damage could be measured, and results received (all samples and repeats).
    n_probes: int = 0
    n_results: int = 0
    # Mean per-probe damage and the reference noise floor it was calibrated by.
    damage: float | None = None
    noise_floor: float | None = None
    # Mean of each damage part over the probes where it was measured.
    parts: dict[str, float] = field(default_factory=dict)
    # Of the probes the reference passes, the share this endpoint passes too.
    accuracy: float | None = None
    checks_passed: int = 0
    checks_total: int = 0
    # K2 Vendor Verifier metrics (trigger = finish_reason "tool_calls").
    tool_precision: float | None = None
    tool_recall: float | None = None
    tool_f1: float | None = None
    schema_accuracy: float | None = None
    tool_triggered: int = 0
    tool_schema_ok: int = 0
    # Pooled over compared positions (shared prefix + first divergent position).
    kl_mean: float | None = None
    top1_agreement: float | None = None
    kl_positions: int = 0
    kl_uncertain: int = 0
    token_agreement: float | None = None
    # Joint two-sample test over all sampled probes (kernel zero across prompts).
    mmd_p: float | None = None
    mmd_statistic: float | None = None
    mmd_probes: int = 0
    # Mean share of letters outside the expected script.
    leakage: float | None = None
    ttft_p50: float | None = None
    ttft_p90: float | None = None
    tps_p50: float | None = None
    tps_p90: float | None = None
    cost_usd: float | None = None
    cost_per_pass: float | None = None
    estimated_usage: bool = False
    errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    # Which parts could be measured at all for this endpoint.
    measured: dict[str, bool] = field(default_factory=dict)
    # Conformance gaps: probes the reference answered and this endpoint refused (an HTTP 4xx
    # naming the feature, `vvtui endpoints check`, or the config), in all and by the feature
    # they need (vvtui.features; "other" when none).
    refused_probes: int = 0
    gaps: dict[str, int] = field(default_factory=dict)
    # Deterministic probes whose answer was cut short where the reference's went on.
    cut_probes: int = 0
    # Conformance checks (vvtui.scoring.conformance.score_entry): each check's status and reason,
    # `failed` (checks failed that the reference passes), requests and tokens they cost.
    conformance: dict[str, Any] = field(default_factory=dict)
    # Why the verdict is what it is beyond the interval, one line each (verdict_gates).
    verdict_reasons: list[str] = field(default_factory=list)

    @property
    def answered_nothing(self) -> bool:
        """Every request failed, and not only because a feature was declared missing or the
        run was stopped."""
        return (
            self.n_results > 0
            and self.errors >= self.n_results
            and any(kind not in NOT_ITS_DOING for kind in self.errors_by_kind)
        )

    def mark_no_answers(self) -> None:
        """Nothing to score: no fidelity, interval or share, rather than a 100 or a 0."""
        self.verdict = NO_ANSWERS
        self.fidelity = self.ci_low = self.ci_high = self.damage = None
        self.accuracy = self.tool_precision = self.tool_recall = self.tool_f1 = None
        self.schema_accuracy = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointScore:
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("parts", "errors_by_kind", "measured", "gaps", "conformance"):
            kwargs[key] = dict(kwargs.get(key) or {})
        kwargs["verdict_reasons"] = [str(r) for r in kwargs.get("verdict_reasons") or []]
        return cls(**kwargs)


@dataclass(slots=True)
class ScoreReport:
    version: int = REPORT_VERSION
    # Tokenizers used, formula version and constants, bootstrap seed and size, reference name.
    meta: dict[str, Any] = field(default_factory=dict)
    endpoints: dict[str, EndpointScore] = field(default_factory=dict)
    # probe id -> endpoint -> summary (mark, damage, agreement, first_divergence, checks, kl...).
    probes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # --until-decided runs only: per endpoint, the confidence sequence, where it decided, why the
    # endpoint stopped and what its verdict cost (docs/scoring.md, "Until decided").
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "version": self.version,
            "meta": self.meta,
            "endpoints": {name: s.to_dict() for name, s in self.endpoints.items()},
            "probes": self.probes,
        }
        if self.decisions:
            out["decisions"] = self.decisions
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreReport:
        return cls(
            version=int(data.get("version", REPORT_VERSION)),
            meta=dict(data.get("meta") or {}),
            endpoints=endpoint_scores(data.get("endpoints")),
            probes={
                str(pid): {str(ep): dict(v) for ep, v in per.items()}
                for pid, per in (data.get("probes") or {}).items()
            },
            decisions={str(k): dict(v) for k, v in (data.get("decisions") or {}).items()},
        )


def endpoint_scores(entries: dict[str, Any] | None) -> dict[str, EndpointScore]:
    """A stored report's `endpoints` entries as typed scores, each named by its key."""
    return {
        str(name): EndpointScore.from_dict({**entry, "name": str(name)})
        for name, entry in (entries or {}).items()
    }
