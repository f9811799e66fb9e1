"""What one endpoint's evaluation on one probe holds (`ProbeEval`), and the table of endpoint
metrics pooled from those evaluations (`METRICS`).

A metric that pools like the ones here is declared once: the ProbeEval field(s) its evaluation
fills, one `Metric` entry, and the `EndpointScore` field it lands in. The running sums
(`vvtui.scoring.tally.Tally`) and the filling of `EndpointScore` (`fill_metrics`) are driven by
the table. What does not pool that simply stays explicit in `Tally` and `assemble.base_score`,
each for a reason given there: damage and the noise floor, damage parts, tool calls, refusals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from vvtui.model import PENDING, Mark
from vvtui.scoring import tools as toolcalls
from vvtui.scoring.compare import ProbeComparison
from vvtui.scoring.mmd import MMDResult
from vvtui.scoring.report import EndpointScore


@dataclass(slots=True)
class ProbeEval:
    """One endpoint on one probe: damage, its parts, and the counts endpoint scores sum up."""

    sampled: bool
    mark: Mark = PENDING
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


@dataclass(frozen=True, slots=True)
class Metric:
    """An endpoint metric pooled over probes from ProbeEval fields.

    `num` (and `den`) name ProbeEval fields summed over the endpoint's evaluated probes. Without
    `den` the metric is that pooled sum (a count); with it, the pooled ratio sum(num) / sum(den),
    None while sum(den) is 0 (pooled, not a mean of per-probe ratios: a probe weighs by its
    positions, samples or checks). `candidates_only`: not filled for the reference, which is not
    scored against itself (its EndpointScore keeps the field's default).
    """

    score_field: str
    num: str
    den: str | None = None
    candidates_only: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("checks_passed", "checks_passed"),
    Metric("checks_total", "checks_total"),
    # Of the probes the reference passes, the share this endpoint passes too.
    Metric("accuracy", "acc_num", "acc_den", candidates_only=True),
    Metric("kl_mean", "kl_sum", "kl_positions"),
    Metric("top1_agreement", "top1_agree", "kl_positions"),
    Metric("kl_positions", "kl_positions"),
    Metric("kl_uncertain", "kl_uncertain"),
    Metric("token_agreement", "agree_sum", "agree_n"),
    Metric("leakage", "leak_sum", "leak_n"),
    Metric("cut_probes", "cut", candidates_only=True),
)

# The ProbeEval fields the running sums keep, each once, in table order.
SUMMED: tuple[str, ...] = tuple(
    dict.fromkeys(name for m in METRICS for name in (m.num, m.den) if name is not None)
)


def _zero(name: str) -> float | int:
    # A sum starts at the field's own kind of zero, so counts stay ints in the report (a bool
    # field such as `cut` counts as an int).
    default = next(f.default for f in fields(ProbeEval) if f.name == name)
    return 0.0 if isinstance(default, float) else 0


ZEROS: dict[str, float | int] = {name: _zero(name) for name in SUMMED}


# The table as plain tuples: filling runs on every live score, and reading a tuple is cheaper than
# a slotted dataclass's four attributes.
_FILL = tuple((m.score_field, m.num, m.den, m.candidates_only) for m in METRICS)


def fill_metrics(score: EndpointScore, sums: object, *, reference: bool) -> None:
    """Set every table metric of `score` from an endpoint's pooled sums (`tally.Sums`: one
    attribute per summed field)."""
    for score_field, num_field, den_field, candidates_only in _FILL:
        if reference and candidates_only:
            continue
        num = getattr(sums, num_field)
        if den_field is None:
            setattr(score, score_field, num)
        else:
            den = getattr(sums, den_field)
            setattr(score, score_field, num / den if den else None)
