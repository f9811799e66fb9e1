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


def _num(value: float | None, fmt: str, scale: float = 1.0) -> str:
    return "—" if value is None else format(value * scale, fmt)


def format_table(report: Any) -> str:
    """A plain-text table of a ScoreReport (one line per endpoint)."""
    head = (
        f"{'endpoint':<18} {'fidelity':>8} {'95% CI':>13} {'verdict':<12} {'probes':>6} "
        f"{'acc':>5} {'checks':>9} {'toolF1':>6} {'KL':>8} {'top1':>5} {'agree':>5} "
        f"{'ttft50':>7} {'tok/s50':>7} {'cost $':>9} {'err':>4}"
    )
    lines = [head, "-" * len(head)]
    for name, s in report.endpoints.items():
        ci = "—" if s.ci_low is None else f"{s.ci_low:5.1f}–{s.ci_high:5.1f}"
        checks = f"{s.checks_passed}/{s.checks_total}" if s.checks_total else "—"
        cost = _num(s.cost_usd, ".4f") + ("*" if s.estimated_usage and s.cost_usd else "")
        lines.append(
            f"{name[:18]:<18} {_num(s.fidelity, '8.1f')} {ci:>13} {s.verdict:<12} "
            f"{s.n_probes:>6} {_num(s.accuracy, '5.0%')} {checks:>9} {_num(s.tool_f1, '6.2f')} "
            f"{_num(s.kl_mean, '8.4f')} {_num(s.top1_agreement, '5.0%')} "
            f"{_num(s.token_agreement, '5.0%')} {_num(s.ttft_p50, '6.2f')}s "
            f"{_num(s.tps_p50, '7.1f')} {cost:>9} {s.errors:>4}"
        )
        unmeasured = [k for k, v in s.measured.items() if not v]
        if unmeasured and not s.reference:
            lines.append(f"{'':<18} not measured: {', '.join(unmeasured)}")
    meta = report.meta
    boot = meta.get("bootstrap") or {}
    tokenizers = ", ".join(meta.get("tokenizers") or []) or "—"
    lines.append("")
    lines.append(
        f"reference: {meta.get('reference')}; tokenizers: {tokenizers}; "
        f"formula v{meta.get('formula_version')}; bootstrap B={boot.get('b')} "
        f"seed={boot.get('seed')}"
    )
    if any(s.estimated_usage for s in report.endpoints.values()):
        lines.append("* cost from estimated token counts (the provider sent no usage)")
    return "\n".join(lines)


def format_probes(report: Any) -> str:
    names = list(report.endpoints)
    lines = [f"{'probe':<28} " + " ".join(f"{n[:10]:<10}" for n in names)]
    for pid, row in report.probes.items():
        marks = " ".join(f"{row.get(n, {}).get('mark', 'pending'):<10}" for n in names)
        lines.append(f"{pid[:28]:<28} {marks}")
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace) -> int:
    from vvtui.scoring import ScoreReport, score_snapshot
    from vvtui.storage import load_snapshot

    snapshot = load_snapshot(args.snapshot)
    report = score_snapshot(snapshot)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    print(format_table(report))
    if args.probes:
        print()
        print(format_probes(report))
    stored = snapshot.scores
    if stored and ScoreReport.from_dict(stored).to_dict() != report.to_dict():
        version = (stored.get("meta") or {}).get("formula_version")
        print(
            f"note: the scores stored in {args.snapshot} differ from this re-score "
            f"(stored formula v{version}, now v{report.meta.get('formula_version')})",
            file=sys.stderr,
        )
    return 0
