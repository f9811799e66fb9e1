"""`vvtui view SNAP.json`: open a saved run in the TUI (no requests are made)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

VIEW_EPILOG = """\
examples:
  vvtui view snap.json                       browse a finished run: answers, highlights, scores
  vvtui view snap.json --export-dir reports  exports (e, s) go to reports/
"""


def register(sub: Any) -> None:
    view = sub.add_parser(
        "view",
        help="open a saved snapshot in the TUI (replay, no requests)",
        epilog=VIEW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    view.add_argument("snapshot", metavar="SNAP.json", help="a snapshot written by a run")
    view.add_argument(
        "--config", help="config whose [ui] theme and [keymap] to use (default: the user's)"
    )
    view.add_argument("--export-dir", metavar="DIR", help="where exports go (default: cwd)")
    view.set_defaults(func=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vvtui.config import load_config, resolve_config_path
    from vvtui.errors import ConfigError, VvtuiError
    from vvtui.storage import load_snapshot

    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise VvtuiError(
            "vvtui view needs a terminal", hint="for a text summary use `vvtui score SNAP.json`"
        )
    config = None
    path = resolve_config_path(args.config)
    try:
        if args.config or path.exists():
            config = load_config(path)
    except ConfigError:
        if args.config:
            raise
        # The user's config only lends its theme and keys here: a broken one must not block
        # looking at a snapshot.
        config = None
    try:
        snapshot = load_snapshot(args.snapshot)
    except VvtuiError as exc:
        from vvtui.tui import show_error

        return show_error(exc)
    from vvtui.tui import view_snapshot

    export_dir = args.export_dir or (config.run.export_dir if config else None)
    from vvtui.cli.exports import markdown_report

    return view_snapshot(
        snapshot,
        config=config,
        export_dir=Path(export_dir) if export_dir else Path.cwd(),
        report=markdown_report,
    )
