"""`vvtui score SNAP.json [--json]`: re-score a snapshot from its results alone."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EPILOG = """\
examples:
  vvtui score run.json              table of fidelity, checks, tool-call F1, KL, latency, cost
  vvtui score run.json --json       the full score report (what snapshots store under "scores")
  vvtui score run.json --probes     add one line per probe with each endpoint's mark

Fidelity intervals are shown to one decimal and rounded outwards (a bound of 89.96 reads 89.9),
as in the TUI and the reports: the interval shown always holds the one computed. A run cost
marked * was computed from vvtui's own token counts: the provider sent no usage.

The scores depend only on the snapshot's probes, endpoints and results (fixed bootstrap and
permutation seeds), so a re-score reproduces the scores stored when the snapshot was written.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "score",
        help="re-score a snapshot and print the fidelity table",
        description="Re-score a snapshot from its results alone (formulas: docs/scoring.md).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("snapshot", metavar="SNAP.json", help="a snapshot written by vvtui")
    parser.add_argument("--json", action="store_true", help="print the score report as JSON")
    parser.add_argument(
        "--probes", action="store_true", help="also list each probe's mark per endpoint"
    )
    parser.set_defaults(func=cmd_score)


def format_table(snapshot: Any, report: Any) -> str:
    """The terminal scoreboard (the same columns as headless runs), what could not be measured,
    and how the scores were computed."""
    import dataclasses

    from vvtui.reports.table import endpoint_table

    lines = [endpoint_table(dataclasses.replace(snapshot, scores=report.to_dict()))]
    for name, s in report.endpoints.items():
        unmeasured = [k for k, v in s.measured.items() if not v]
        if unmeasured and not s.reference:
            lines.append(f"{name}: not measured: {', '.join(unmeasured)}")
    meta = report.meta
    boot = meta.get("bootstrap") or {}
    tokenizers = ", ".join(meta.get("tokenizers") or []) or "–"
    lines.append("")
    lines.append(
        f"reference: {meta.get('reference')}; tokenizers: {tokenizers}; "
        f"formula v{meta.get('formula_version')}; bootstrap B={boot.get('b')} "
        f"seed={boot.get('seed')}"
    )
    return "\n".join(lines)


def format_probes(report: Any) -> str:
    """One line per probe, one column per endpoint, each as wide as its longest entry: names
    are never cut (two endpoints may differ only in their last characters)."""
    from vvtui.model import PENDING
    from vvtui.reports.table import render_table

    names = list(report.endpoints)
    rows = [
        [pid, *(row.get(n, {}).get("mark", PENDING) for n in names)]
        for pid, row in report.probes.items()
    ]
    return render_table(rows, ["probe", *names], right=frozenset())


def cmd_score(args: argparse.Namespace) -> int:
    from vvtui.scoring import ScoreReport, score_snapshot
    from vvtui.scoring.tolerance import agree
    from vvtui.storage import load_snapshot

    snapshot = load_snapshot(args.snapshot)
    report = score_snapshot(snapshot)
    if args.json:
        from vvtui.scoring.decide import costs_to_verdict

        out = report.to_dict()
        costs = costs_to_verdict(snapshot, out)
        # Beside the stored report (which holds it only for --until-decided runs): what each
        # endpoint's verdict cost, for scripts.
        out["cost_to_verdict"] = {name: c.to_dict() for name, c in costs.items()}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    print(format_table(snapshot, report))
    if args.probes:
        print()
        print(format_probes(report))
    stored = snapshot.scores
    # Another machine's numpy may round the last bits differently: only a difference beyond
    # that (vvtui.scoring.tolerance) means the stored scores are stale.
    if stored and not agree(ScoreReport.from_dict(stored).to_dict(), report.to_dict()):
        version = (stored.get("meta") or {}).get("formula_version")
        print(
            f"note: the scores stored in {args.snapshot} differ from this re-score "
            f"(stored formula v{version}, now v{report.meta.get('formula_version')})",
            file=sys.stderr,
        )
    return 0
