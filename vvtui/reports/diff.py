"""Drift between two snapshots: per endpoint what moved (fidelity, accuracy, tool-call F1, TTFT,
tok/s, price) and which probes changed mark, and which limits that crosses.

`diff_snapshots` is pure: it reads the scores the two snapshots hold. `comparable` gets two
snapshots ready for it (scores recomputed when missing or stale; when the probe sets differ, both
cut down to the probes they share and re-scored, so the numbers compare like with like).

Semantics:
- endpoints are matched by name; an endpoint in one snapshot only is reported as added or
  removed and crosses no limit;
- fidelity drop = old − new, in points (the reference is not compared: it is 100 by
  definition);
- TTFT increase = (new p50 − old p50) / old p50, in percent;
- price increase, in percent, of the list price (the larger of the input and output increases);
  when either snapshot has no list price for the endpoint, of the run cost per request instead;
- a value measured in OLD but not in NEW crosses its limit (an endpoint that stopped answering
  has not stayed within it); a value not measured in OLD has no baseline and crosses nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vvtui.errors import SnapshotError
from vvtui.model import MARK_RANK, EndpointInfo, Snapshot
from vvtui.present import fmt
from vvtui.reports.data import stored_scores
from vvtui.reports.fmt import count

if TYPE_CHECKING:
    from vvtui.scoring.report import EndpointScore


@dataclass(frozen=True, slots=True)
class Limits:
    max_fidelity_drop: float | None = None  # points
    max_ttft_increase: float | None = None  # percent
    max_price_increase: float | None = None  # percent

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.max_fidelity_drop, self.max_ttft_increase, self.max_price_increase)
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One number in both snapshots."""

    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def percent(self) -> float | None:
        if self.old is None or self.new is None or self.old == 0:
            return None
        return 100.0 * (self.new - self.old) / abs(self.old)

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "delta": self.delta, "percent": self.percent}


@dataclass(frozen=True, slots=True)
class MarkChange:
    probe_id: str
    old: str
    new: str

    @property
    def worse(self) -> bool:
        return MARK_RANK.get(self.new, 0) > MARK_RANK.get(self.old, 0)

    def to_dict(self) -> dict[str, Any]:
        return {"probe_id": self.probe_id, "old": self.old, "new": self.new, "worse": self.worse}


@dataclass(slots=True)
class EndpointDrift:
    name: str
    # both | added (NEW only) | removed (OLD only)
    status: str
    reference: bool = False
    verdict: tuple[str | None, str | None] = (None, None)
    fidelity: Change = Change(None, None)
    accuracy: Change = Change(None, None)
    tool_f1: Change = Change(None, None)
    ttft_p50: Change = Change(None, None)
    tps_p50: Change = Change(None, None)
    price_input: Change = Change(None, None)
    price_output: Change = Change(None, None)
    cost_per_request: Change = Change(None, None)
    # "list" (USD per Mtok), "cost per request", or None when neither compares.
    price_basis: str | None = None
    marks: list[MarkChange] = field(default_factory=list)

    @property
    def fidelity_drop(self) -> float | None:
        d = self.fidelity.delta
        return None if d is None else -d

    @property
    def price_increase(self) -> float | None:
        """Percent; the larger of the input and output list-price increases, or the run cost per
        request when a list price is missing."""
        if self.price_basis == "list":
            found = [
                p for p in (self.price_input.percent, self.price_output.percent) if p is not None
            ]
            return max(found) if found else 0.0
        if self.price_basis == "cost per request":
            return self.cost_per_request.percent
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reference": self.reference,
            "verdict": {"old": self.verdict[0], "new": self.verdict[1]},
            "fidelity": self.fidelity.to_dict(),
            "fidelity_drop": self.fidelity_drop,
            "accuracy": self.accuracy.to_dict(),
            "tool_f1": self.tool_f1.to_dict(),
            "ttft_p50": self.ttft_p50.to_dict(),
            "tps_p50": self.tps_p50.to_dict(),
            "price_input": self.price_input.to_dict(),
            "price_output": self.price_output.to_dict(),
            "cost_per_request": self.cost_per_request.to_dict(),
            "price_basis": self.price_basis,
            "price_increase": self.price_increase,
            "marks": [m.to_dict() for m in self.marks],
        }


@dataclass(frozen=True, slots=True)
class Crossing:
    endpoint: str
    limit: str  # max-fidelity-drop | max-ttft-increase | max-price-increase
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "limit": self.limit, "message": self.message}


@dataclass(slots=True)
class DriftReport:
    old: str
    new: str
    endpoints: list[EndpointDrift]
    common_probes: int
    old_only_probes: list[str]
    new_only_probes: list[str]
    limits: Limits
    crossings: list[Crossing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def crossed(self) -> bool:
        return bool(self.crossings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "common_probes": self.common_probes,
            "old_only_probes": self.old_only_probes,
            "new_only_probes": self.new_only_probes,
            "limits": dataclasses.asdict(self.limits),
            "endpoints": [e.to_dict() for e in self.endpoints],
            "crossings": [c.to_dict() for c in self.crossings],
            "notes": self.notes,
        }


# --------------------------------------------------------------------------------------------


def _cost_per_request(score: EndpointScore | None) -> float | None:
    if score is None or score.cost_usd is None or not score.n_results:
        return None
    return score.cost_usd / score.n_results


def _endpoint(
    name: str,
    old_e: EndpointInfo | None,
    new_e: EndpointInfo | None,
    old: Snapshot,
    new: Snapshot,
    probes: list[str],
    scores: tuple[dict[str, EndpointScore], dict[str, EndpointScore]],
) -> EndpointDrift:
    if old_e is None or new_e is None:
        present = new_e or old_e
        assert present is not None
        return EndpointDrift(name, "added" if old_e is None else "removed", present.reference)
    so, sn = scores[0].get(name), scores[1].get(name)

    def change(key: str) -> Change:
        return Change(
            None if so is None else getattr(so, key), None if sn is None else getattr(sn, key)
        )

    drift = EndpointDrift(
        name,
        "both",
        reference=new_e.reference,
        verdict=(None if so is None else so.verdict, None if sn is None else sn.verdict),
        fidelity=Change(None, None) if new_e.reference else change("fidelity"),
        accuracy=change("accuracy"),
        tool_f1=change("tool_f1"),
        ttft_p50=change("ttft_p50"),
        tps_p50=change("tps_p50"),
        price_input=Change(
            None if old_e.price is None else old_e.price.input,
            None if new_e.price is None else new_e.price.input,
        ),
        price_output=Change(
            None if old_e.price is None else old_e.price.output,
            None if new_e.price is None else new_e.price.output,
        ),
        cost_per_request=Change(_cost_per_request(so), _cost_per_request(sn)),
    )
    if old_e.price is not None and new_e.price is not None:
        drift.price_basis = "list"
    elif drift.cost_per_request.old is not None and drift.cost_per_request.new is not None:
        drift.price_basis = "cost per request"
    old_rows = old.scores.get("probes") or {}
    new_rows = new.scores.get("probes") or {}
    for pid in probes:
        a = (old_rows.get(pid) or {}).get(name, {}).get("mark")
        b = (new_rows.get(pid) or {}).get(name, {}).get("mark")
        if a is not None and b is not None and a != b:
            drift.marks.append(MarkChange(pid, a, b))
    return drift


def _crossings(e: EndpointDrift, limits: Limits) -> list[Crossing]:
    out = []
    if limits.max_fidelity_drop is not None and not e.reference:
        old, new = e.fidelity.old, e.fidelity.new
        if old is not None and new is None:
            out.append(
                Crossing(
                    e.name,
                    "max-fidelity-drop",
                    f"{e.name}: fidelity {old:.1f} before, not measurable now",
                )
            )
        elif old is not None and new is not None and old - new > limits.max_fidelity_drop:
            out.append(
                Crossing(
                    e.name,
                    "max-fidelity-drop",
                    f"{e.name}: fidelity dropped {old - new:.1f} points ({old:.1f} → {new:.1f}) "
                    f"> {limits.max_fidelity_drop:g}",
                )
            )
    if limits.max_ttft_increase is not None:
        old, new = e.ttft_p50.old, e.ttft_p50.new
        pct = e.ttft_p50.percent
        if old is not None and new is None:
            out.append(
                Crossing(
                    e.name,
                    "max-ttft-increase",
                    f"{e.name}: TTFT p50 {old * 1000:.0f} ms before, no successful request to "
                    "time now",
                )
            )
        elif (
            pct is not None
            and old is not None
            and new is not None
            and pct > limits.max_ttft_increase
        ):
            out.append(
                Crossing(
                    e.name,
                    "max-ttft-increase",
                    f"{e.name}: TTFT p50 rose {pct:.0f}% ({old * 1000:.0f} ms → {new * 1000:.0f} "
                    f"ms) > {limits.max_ttft_increase:g}%",
                )
            )
    if limits.max_price_increase is not None:
        pct = e.price_increase
        if pct is not None and pct > limits.max_price_increase:
            if e.price_basis == "list":
                what = (
                    f"list price rose {pct:.0f}% (${e.price_input.old:g}/${e.price_output.old:g} "
                    f"→ ${e.price_input.new:g}/${e.price_output.new:g} per Mtok)"
                )
            else:
                what = f"cost per request rose {pct:.0f}%"
            out.append(
                Crossing(
                    e.name,
                    "max-price-increase",
                    f"{e.name}: {what} > {limits.max_price_increase:g}%",
                )
            )
    return out


def diff_snapshots(
    old: Snapshot,
    new: Snapshot,
    limits: Limits | None = None,
    *,
    old_label: str = "OLD",
    new_label: str = "NEW",
    probe_sets: tuple[list[str], list[str]] | None = None,
) -> DriftReport:
    """Compare two scored snapshots (see the module docstring for the semantics).
    `probe_sets`: the probe ids the snapshots held before `comparable` cut them to the common
    ones, so the report can still say which were left out."""
    limits = limits or Limits()
    old_all, new_all = probe_sets or ([p.id for p in old.probes], [p.id for p in new.probes])
    new_ids = {p.id for p in new.probes}
    common = [p.id for p in old.probes if p.id in new_ids]
    old_eps = {e.name: e for e in old.endpoints}
    new_eps = {e.name: e for e in new.endpoints}
    names = [e.name for e in new.endpoints] + [
        e.name for e in old.endpoints if e.name not in new_eps
    ]
    # Typed once here, not once per endpoint.
    scores = stored_scores(old), stored_scores(new)
    endpoints = [
        _endpoint(n, old_eps.get(n), new_eps.get(n), old, new, common, scores) for n in names
    ]
    report = DriftReport(
        old_label,
        new_label,
        endpoints,
        len(common),
        [pid for pid in old_all if pid not in set(new_all)],
        [pid for pid in new_all if pid not in set(old_all)],
        limits,
    )
    for e in endpoints:
        if e.status == "both":
            report.crossings += _crossings(e, limits)
    added = [e.name for e in endpoints if e.status == "added"]
    removed = [e.name for e in endpoints if e.status == "removed"]
    if added:
        report.notes.append(f"only in {new_label} (no baseline): {', '.join(added)}")
    if removed:
        report.notes.append(f"only in {old_label} (not compared): {', '.join(removed)}")
    ref_old = old.reference.name if old.endpoints else None
    ref_new = new.reference.name if new.endpoints else None
    if ref_old != ref_new:
        report.notes.append(
            f"the reference changed ({ref_old} → {ref_new}): fidelities are measured against "
            "different endpoints"
        )
    return report


# --------------------------------------------------------------------------------------------
# Getting two snapshots ready to compare


def restrict(snapshot: Snapshot, probe_ids: set[str]) -> Snapshot:
    """The snapshot cut down to some probes, unscored."""
    return dataclasses.replace(
        snapshot,
        probes=[p for p in snapshot.probes if p.id in probe_ids],
        results=[r for r in snapshot.results if r.probe_id in probe_ids],
        scores={},
    )


def comparable(old: Snapshot, new: Snapshot) -> tuple[Snapshot, Snapshot, list[str]]:
    """Both snapshots with scores that compare, and notes on what was done to get them."""
    from vvtui.reports.data import stale_reason
    from vvtui.scoring import score_snapshot

    notes = []
    old_ids = {p.id for p in old.probes}
    new_ids = {p.id for p in new.probes}
    if not old_ids & new_ids:
        raise SnapshotError("the two snapshots have no probe in common: nothing to compare")
    if not {e.name for e in old.endpoints} & {e.name for e in new.endpoints}:
        raise SnapshotError(
            "the two snapshots have no endpoint name in common: nothing to compare",
            hint="endpoints are matched by name",
        )
    if old_ids != new_ids:
        common = old_ids & new_ids
        notes.append(
            f"the probe sets differ: compared on the {count(len(common), 'probe')} both hold, "
            "both snapshots re-scored on those"
        )
        old, new = restrict(old, common), restrict(new, common)
    ready = []
    for label, snap in (("OLD", old), ("NEW", new)):
        reason = stale_reason(snap)
        if reason is not None:
            if snap.scores:
                notes.append(f"{label}: scores recomputed ({reason})")
            snap = dataclasses.replace(snap, scores=score_snapshot(snap).to_dict())
        ready.append(snap)
    return ready[0], ready[1], notes


# --------------------------------------------------------------------------------------------
# Text


def _arrow(c: Change, show: Any, suffix: str = "") -> str:
    if c.old is None and c.new is None:
        return "–"
    a = "–" if c.old is None else show(c.old)
    b = "–" if c.new is None else show(c.new)
    return f"{a} → {b}{suffix}"


def _points(c: Change) -> str:
    d = c.delta
    return "" if d is None else f" ({d:+.1f})"


def _percent(c: Change) -> str:
    p = c.percent
    return "" if p is None else f" ({p:+.0f}%)"


def _price_cell(e: EndpointDrift) -> str:
    if e.price_basis == "list":
        cell = (
            f"${e.price_input.old:g}/${e.price_output.old:g} → "
            f"${e.price_input.new:g}/${e.price_output.new:g}"
        )
        pct = e.price_increase
        return cell + ("" if not pct else f" ({pct:+.0f}%)")
    if e.price_basis == "cost per request":
        return (
            "per request "
            + _arrow(e.cost_per_request, lambda v: f"${v:.2g}")
            + _percent(e.cost_per_request)
        )
    return "–"


def _some(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _mark_lines(e: EndpointDrift, width: int = 100) -> list[str]:
    """One endpoint's changed marks, grouped by move (`pass → fail (7): a, b, ...`) and wrapped:
    a full suite's worth on one line was thousands of characters long."""
    import textwrap

    moves: dict[tuple[str, str], list[str]] = {}
    for m in e.marks:
        moves.setdefault((m.old, m.new), []).append(m.probe_id)
    lines = [f"  {e.name} ({count(len(e.marks), 'probe')}):"]
    for (old, new), ids in moves.items():
        lines += textwrap.wrap(
            f"{old} → {new} ({len(ids)}): {', '.join(ids)}",
            width=width,
            initial_indent="    ",
            subsequent_indent="      ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def format_drift(report: DriftReport) -> str:
    from vvtui.reports.table import render_table

    headers = ["endpoint", "fidelity", "accuracy", "tool F1", "TTFT p50", "tok/s p50", "price"]
    headers.append("verdict")
    rows = []
    for e in report.endpoints:
        name = e.name + (" (ref)" if e.reference else "")
        if e.status != "both":
            rows.append([name, f"({e.status})", "", "", "", "", "", ""])
            continue
        verdict = e.verdict[1] or "–"
        if e.verdict[0] != e.verdict[1]:
            verdict = f"{e.verdict[0] or '–'} → {e.verdict[1] or '–'}"
        rows.append(
            [
                name,
                "–" if e.reference else _arrow(e.fidelity, fmt.num) + _points(e.fidelity),
                _arrow(e.accuracy, fmt.pct),
                _arrow(e.tool_f1, fmt.ratio),
                _arrow(e.ttft_p50, fmt.ms) + _percent(e.ttft_p50),
                _arrow(e.tps_p50, fmt.tps) + _percent(e.tps_p50),
                _price_cell(e),
                verdict,
            ]
        )
    lines = [
        f"drift: {report.old} → {report.new} ({count(report.common_probes, 'probe')} compared)",
        "",
        render_table(rows, headers, right=frozenset()),
    ]
    if report.old_only_probes or report.new_only_probes:
        lines.append("")
        if report.old_only_probes:
            lines.append(f"probes only in {report.old}: {_some(report.old_only_probes)}")
        if report.new_only_probes:
            lines.append(f"probes only in {report.new}: {_some(report.new_only_probes)}")
    changed = [e for e in report.endpoints if e.marks]
    lines.append("")
    if changed:
        lines.append("probes that changed mark:")
        for e in changed:
            lines += _mark_lines(e)
    else:
        lines.append("no probe changed mark")
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def format_limits(report: DriftReport) -> str:
    """The verdict on the limits: one line per crossing, or that none was crossed."""
    if not report.limits.any:
        return "no limits given (--max-fidelity-drop, --max-ttft-increase, --max-price-increase)"
    if not report.crossings:
        return "no limit crossed"
    return "\n".join(f"limit crossed: {c.message}" for c in report.crossings)
