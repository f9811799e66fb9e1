"""Rules that cap a verdict whatever the fidelity says, and the reasons the verdict line shows.

The fidelity rests on the probes an endpoint was measured on. Some evidence stands outside it:
probes the endpoint could not take at all (it refused a feature the reference serves), answers
cut short. A gate names such a finding in one line and the best verdict it still allows;
`gated_verdict` applies every gate to the verdict the interval gave. Pure functions over plain
data, so a re-score of a snapshot gates the same way (docs/scoring.md, "Verdict").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from vvtui.model import Verdict

if TYPE_CHECKING:
    from vvtui.scoring.report import EndpointScore

FAITHFUL: Final = "faithful"
INCONCLUSIVE: Final = "inconclusive"
DEGRADED: Final = "degraded"
# Best first: a gate can only move a verdict down this list.
_RANK: dict[Verdict, int] = {FAITHFUL: 2, INCONCLUSIVE: 1, DEGRADED: 0}
# A refused probe whose needs are none of vvtui.features.FEATURES (a 4xx naming another
# parameter): counted under this key.
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Gate:
    """A finding outside the fidelity: `reason` for the verdict line, `at_most` the best verdict
    the endpoint may still get (`inconclusive` or `degraded`)."""

    reason: str
    at_most: Verdict = INCONCLUSIVE


def gated_verdict(verdict: Verdict, gates: Iterable[Gate | None]) -> tuple[Verdict, list[str]]:
    """The final verdict and the reasons to show with it, one per gate (in order). A verdict
    outside faithful/inconclusive/degraded (`reference`) is returned as it is, with no reasons."""
    if verdict not in _RANK:
        return verdict, []
    reasons = []
    for gate in gates:
        if gate is None:
            continue
        reasons.append(gate.reason)
        if _RANK[gate.at_most] < _RANK[verdict]:
            verdict = gate.at_most
    return verdict, reasons


def describe_gaps(gaps: Mapping[str, int]) -> str:
    """`no json_schema, no tools`: what an endpoint lacks, for panes and reports."""
    return ", ".join(
        f"no {name}" if name != OTHER else "other features refused" for name in sorted(gaps)
    )


def gap_gate(gaps: Mapping[str, int], refused_probes: int) -> Gate | None:
    """An endpoint that refused probes the reference answered was not measured on them, so its
    fidelity speaks only for the rest of the suite: it cannot be `faithful` on this suite."""
    if refused_probes <= 0:
        return None
    noun = "probe" if refused_probes == 1 else "probes"
    return Gate(f"{refused_probes} {noun} refused, not measured: {describe_gaps(gaps)}")


def cut_gate(cut_probes: int) -> Gate | None:
    """Answers cut before the reference's ended (what a host lowering `max_tokens` does): the
    truncation part already counts them as damage; the verdict line says so, and a host that
    cuts answers is not `faithful`. Same weights served faithfully stop where the reference
    stops, so this costs a faithful endpoint nothing."""
    if cut_probes <= 0:
        return None
    noun = "answer" if cut_probes == 1 else "answers"
    return Gate(f"✂ {cut_probes} {noun} cut short")


def gates_for(score: EndpointScore) -> list[Gate | None]:
    """Every gate that applies to an endpoint's score record, in the order the verdict line
    lists them: what could not be measured, what was cut, then failed conformance checks."""
    from vvtui.scoring.conformance import conformance_gates  # it builds on Gate: import late

    return [
        gap_gate(score.gaps, score.refused_probes),
        cut_gate(score.cut_probes),
        *conformance_gates(score.conformance),
    ]
