"""Command-line entry point. Heavy imports (Textual, httpx, numpy) are deferred into each
command's `run` so `vvtui --help` stays instant."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from vvtui import __version__
from vvtui.errors import VvtuiError

# Each module defines `register(subparsers)`; keep this list the single place commands are wired.
COMMAND_MODULES = (
    "vvtui.cli.config_cmd",
    "vvtui.cli.diff_cmd",
    "vvtui.cli.endpoints_cmd",
    "vvtui.cli.local_cmd",
    "vvtui.cli.openrouter_cmd",
    "vvtui.cli.probes_cmd",
    "vvtui.cli.report_cmd",
    "vvtui.cli.run_cmd",
    "vvtui.cli.score_cmd",
    "vvtui.cli.sim_cmd",
    "vvtui.cli.view_cmd",
)

EPILOG = """\
examples:
  vvtui demo                         simulated quantization ladder in the TUI (no keys, no network)
  vvtui demo --headless --suite quick --out s.json   headless, a few seconds, writing a snapshot
  vvtui config init                  write a commented example config
  vvtui run --suite quick            open the TUI on your endpoints
  vvtui run --headless --min-fidelity 90 --out snap.json   CI gate
  vvtui run --resume snap.json --config ci.toml            finish an interrupted run
  vvtui view snap.json               browse a saved run in the TUI
  vvtui report snap.json --format html -o report.html
  vvtui diff old.json new.json --max-fidelity-drop 5

Every command has --help with examples (`vvtui run --help`, `vvtui config check --help`...).
exit codes: 0 ok, 1 a gate failed, 2 usage or input error, 3 an endpoint answered nothing,
130 interrupted (Ctrl-C, SIGTERM: the snapshot is written, marked incomplete)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vvtui",
        description="Send the same probes to several LLM endpoints and compare them live: "
        "outputs, token-level divergence, latency, price and a calibrated fidelity score.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vvtui {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for errors (never shows keys)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _accept_debug_anywhere(parser)
    return parser


def _accept_debug_anywhere(parser: argparse.ArgumentParser) -> None:
    """`vvtui run --debug ...` works as well as `vvtui --debug run ...`: people add the flag at the
    end of the command that failed. SUPPRESS keeps a subcommand from resetting the top-level one."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for child in {id(p): p for p in action.choices.values()}.values():
            if "--debug" not in child._option_string_actions:
                child.add_argument(
                    "--debug",
                    action="store_true",
                    default=argparse.SUPPRESS,
                    help=argparse.SUPPRESS,
                )
            _accept_debug_anywhere(child)


def _has_command(parser: argparse.ArgumentParser, name: str) -> bool:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return name in action.choices
    return False


def main(argv: Sequence[str] | None = None) -> int:
    from vvtui.cli.redacting import redacting_hooks

    with redacting_hooks():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    from vvtui.redact import redacted_traceback

    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False) or bool(os.environ.get("VVTUI_DEBUG"))
    func = getattr(args, "func", None)
    if func is None:
        if args.command is None and _has_command(parser, "run"):
            # `vvtui` alone opens the TUI on the user's config, like `vvtui run`.
            args = parser.parse_args(["run"])
            args.debug = debug
            func = args.func
        else:
            parser.print_help()
            return 0
    from vvtui.redact import redact

    try:
        return int(func(args) or 0)
    except VvtuiError as exc:
        if debug:
            sys.stderr.write(redacted_traceback(exc))
        print(f"vvtui: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vvtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            sys.stderr.write(redacted_traceback(exc))
        # Messages of unexpected errors are never trusted to be one line or key-free.
        message = " ".join(redact(str(exc)).split())
        print(
            f"vvtui: internal error: {type(exc).__name__}: {message} "
            "(this is a bug; rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 3
