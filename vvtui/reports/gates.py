"""Threshold gates for CI: pure functions over a scored snapshot.

- `--min-fidelity X`: each endpoint's fidelity (the point estimate; its interval is quoted in
  the message) must be at least X. The reference is not gated: it is what fidelity is measured
  against.
- `--max-ttft-ms Y`: each endpoint's median time to first token must be at most Y ms.
- `--max-cost-usd Z`: what the run cost on each endpoint must be at most Z dollars.

A value that could not be measured fails its gate: a CI check that passes because nothing was
measured is worse than none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vvtui.model import Snapshot
from vvtui.reports import fmt
from vvtui.reports.data import stored_scores

if TYPE_CHECKING:
    from vvtui.scoring.report import EndpointScore


@dataclass(slots=True, frozen=True)
class Gates:
    min_fidelity: float | None = None
    max_ttft_ms: float | None = None
    max_cost_usd: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.min_fidelity, self.max_ttft_ms, self.max_cost_usd))


@dataclass(slots=True, frozen=True)
class GateResult:
    endpoint: str
    gate: str  # min-fidelity | max-ttft-ms | max-cost-usd
    passed: bool
    message: str
    # The measured value in the gate's unit (points, ms, USD); None when not measurable.
    value: float | None = None
    limit: float | None = None


@dataclass(slots=True, frozen=True)
class _Rule:
    gate: str
    score_key: str
    what: str
    lower_is_worse: bool
    scale: float
    # Formats a value with this many decimals (at least `decimals`; more when needed, below).
    show: Callable[[float, int], str]
    decimals: int
    unmeasured: str

    def pair(self, value: float, limit: float) -> tuple[str, str]:
        """Value and limit with enough decimals to tell them apart: `$0.0005 > $0.0005` does
        not say why a gate failed, `$0.000514 > $0.000500` does."""
        for decimals in range(self.decimals, self.decimals + 7):
            shown = self.show(value, decimals), self.show(limit, decimals)
            if shown[0] != shown[1]:
                break
        return shown


_RULES = {
    "min_fidelity": _Rule(
        "min-fidelity",
        "fidelity",
        "fidelity",
        True,
        1.0,
        lambda v, d: f"{v:.{d}f}",
        1,
        "fidelity could not be measured",
    ),
    "max_ttft_ms": _Rule(
        "max-ttft-ms",
        "ttft_p50",
        "TTFT p50",
        False,
        1000.0,
        lambda v, d: f"{v:.{d}f} ms",
        0,
        "TTFT not measurable (no successful request to time)",
    ),
    "max_cost_usd": _Rule(
        "max-cost-usd",
        "cost_usd",
        "run cost",
        False,
        1.0,
        lambda v, d: f"${v:.{d}f}",
        4,
        "cost unknown (no price and no usage cost)",
    ),
}


def _interval(score: EndpointScore) -> str:
    shown = fmt.interval(score.ci_low, score.ci_high)
    return "" if shown == fmt.MISSING else f" (95% CI {shown})"


def evaluate_gates(snapshot: Snapshot, gates: Gates) -> list[GateResult]:
    """One GateResult per endpoint and gate set, endpoints in snapshot order."""
    scores = stored_scores(snapshot)
    results: list[GateResult] = []
    for endpoint in snapshot.endpoints:
        s = scores.get(endpoint.name)
        name = endpoint.name
        for attr, rule in _RULES.items():
            limit = getattr(gates, attr)
            if limit is None or (rule.score_key == "fidelity" and endpoint.reference):
                continue
            raw = None if s is None else getattr(s, rule.score_key)
            if s is None or raw is None:
                message = f"{name}: {rule.unmeasured}"
                results.append(GateResult(name, rule.gate, False, message, None, limit))
                continue
            value = raw * rule.scale
            ok = value >= limit if rule.lower_is_worse else value <= limit
            op = (">=" if ok else "<") if rule.lower_is_worse else ("<=" if ok else ">")
            extra = _interval(s) if rule.score_key == "fidelity" else ""
            shown, bound = rule.pair(value, limit)
            message = f"{name}: {rule.what} {shown}{extra} {op} {bound}"
            results.append(GateResult(name, rule.gate, ok, message, value, limit))
    return results
