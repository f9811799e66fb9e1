"""`vvtui diff OLD.json NEW.json`: what moved between two snapshots, and limits on it for CI."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from vvtui.errors import UsageError

EPILOG = """\
examples:
  vvtui diff baseline.json new.json                       what moved, per endpoint
  vvtui diff baseline.json new.json --max-fidelity-drop 5 --max-ttft-increase 50 \\
      --max-price-increase 10                             exit 1 when a limit is crossed
  vvtui diff baseline.json new.json --json                the drift report as JSON

Endpoints are matched by name; endpoints or probes in one snapshot only are listed, not
compared. When the probe sets differ, both snapshots are re-scored on the probes they share.
Fidelity drop is old - new in points; TTFT is the p50, its increase in percent; price is the
list price (the larger of the input and output increases, in percent), or the run cost per
request when a list price is missing. A value measured before but not now crosses its limit.

exit codes: 0 no limit crossed, 1 a limit crossed (each is named), 2 unreadable input
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "diff",
        help="compare two snapshots: drift in fidelity, latency, price and probe marks",
        description="Compare two snapshots endpoint by endpoint and gate CI on drift.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("old", metavar="OLD.json", help="the baseline snapshot")
    parser.add_argument("new", metavar="NEW.json", help="the snapshot to check")
    parser.add_argument(
        "--max-fidelity-drop", type=float, metavar="POINTS", help="fail when fidelity drops more"
    )
    parser.add_argument(
        "--max-ttft-increase", type=float, metavar="PCT", help="fail when TTFT p50 rises more (%%)"
    )
    parser.add_argument(
        "--max-price-increase", type=float, metavar="PCT", help="fail when price rises more (%%)"
    )
    parser.add_argument("--json", action="store_true", help="print the drift report as JSON")
    parser.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    from vvtui.reports.diff import Limits, comparable, diff_snapshots, format_drift, format_limits
    from vvtui.storage import load_snapshot

    limits = Limits(args.max_fidelity_drop, args.max_ttft_increase, args.max_price_increase)
    for flag, value in (
        ("--max-fidelity-drop", limits.max_fidelity_drop),
        ("--max-ttft-increase", limits.max_ttft_increase),
        ("--max-price-increase", limits.max_price_increase),
    ):
        if value is not None and value < 0:
            raise UsageError(f"{flag} must be 0 or more (got {value:g})")
    old, new = load_snapshot(args.old), load_snapshot(args.new)
    sets = ([p.id for p in old.probes], [p.id for p in new.probes])
    old, new, notes = comparable(old, new)
    report = diff_snapshots(
        old, new, limits, old_label=args.old, new_label=args.new, probe_sets=sets
    )
    report.notes = notes + report.notes
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        for c in report.crossings:
            print(f"limit crossed: {c.message}", file=sys.stderr)
    else:
        print(format_drift(report))
        print()
        print(format_limits(report))
    return 1 if report.crossed else 0
