"""`vvtui report SNAP.json`: a Markdown, HTML or CSV report of a snapshot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vvtui.errors import UsageError

FORMATS = ("md", "html", "csv")
EXTENSIONS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".csv": "csv"}

EPILOG = """\
examples:
  vvtui report snap.json                          Markdown on stdout
  vvtui report snap.json -o report.html           self-contained HTML (format from the extension)
  vvtui report snap.json --format html > r.html   HTML on stdout, redirected
  vvtui report snap.json -o results.csv           one CSV row per result
  vvtui report snap.json -o endpoints.csv --level endpoints   one CSV row per endpoint

The format is --format, else the extension of -o (.md, .html, .csv), else Markdown. Without -o
the report goes to stdout (HTML only when stdout is not a terminal). Reports use the scores stored
in the snapshot; when those are missing or were made by another formula version they are
recomputed, and the report says so. Reports never hold a key or a header value.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="write a Markdown, HTML or CSV report of a snapshot",
        description="Turn a snapshot into a report a person reads (Markdown, self-contained "
        "HTML) or a spreadsheet reads (CSV).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("snapshot", metavar="SNAP.json", help="a snapshot written by vvtui")
    parser.add_argument(
        "-f", "--format", choices=FORMATS, help="md, html or csv (default: from -o, else md)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--level",
        choices=("results", "endpoints"),
        default="results",
        help="CSV only: one row per result (default) or per endpoint",
    )
    parser.add_argument(
        "--worst",
        type=int,
        default=None,
        metavar="N",
        help="Markdown only: how many worst-diverging probes to show side by side (default 8)",
    )
    parser.set_defaults(func=cmd_report)


def pick_format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    if output is None:
        return "md"
    suffix = Path(output).suffix.lower()
    if suffix not in EXTENSIONS:
        raise UsageError(
            f"cannot tell the report format from {output!r}",
            hint="use --format md|html|csv or an .md, .html or .csv name",
        )
    return EXTENSIONS[suffix]


def cmd_report(args: argparse.Namespace) -> int:
    fmt = pick_format(args.format, args.output)
    if args.worst is not None and args.worst < 0:
        raise UsageError("--worst must be 0 or more")
    if fmt == "html" and args.output is None and sys.stdout.isatty():
        raise UsageError(
            "an HTML report is a file, not terminal text",
            hint="give -o report.html or redirect stdout",
        )
    from vvtui.reports.data import report_data
    from vvtui.storage import load_snapshot, write_atomic

    snapshot = load_snapshot(args.snapshot)
    data = report_data(snapshot)
    if data.rescored is not None:
        print(f"vvtui: scores recomputed: {data.rescored}", file=sys.stderr)
    if fmt == "md":
        from vvtui.reports.markdown import WORST_PROBES, render_markdown_data

        worst = WORST_PROBES if args.worst is None else args.worst
        text = render_markdown_data(data, worst=worst)
    elif fmt == "html":
        from vvtui.reports.html import render_html_data

        text = render_html_data(data)
    else:
        from vvtui.reports.csv_report import render_csv_data

        text = render_csv_data(data, args.level)
    if args.output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return 0
    path = write_atomic(args.output, text if text.endswith("\n") else text + "\n")
    print(f"report: {path}", file=sys.stderr)
    return 0
