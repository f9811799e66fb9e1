"""`vvtui endpoints check`: which optional features each configured endpoint really supports."""

from __future__ import annotations

import argparse
import sys
from typing import Any

GROUP_EPILOG = """\
examples:
  vvtui endpoints check                 which features each endpoint supports (`check --help`)
"""
EPILOG = """\
examples:
  vvtui endpoints check                       every endpoint in the user config
  vvtui endpoints check --endpoint or-groq    just one
  vvtui endpoints check -v                    also why each feature got its status
  vvtui endpoints check --json > caps.json    machine-readable, for scripts and CI

One line per endpoint (feature=status), then, indented, the reason for every error (e.g. a
key variable that is not set); features sharing a reason share a line.
statuses: supported; unsupported (the endpoint refused the feature with an error naming it:
probes needing it are not sent, and the endpoint shows a conformance gap); ignored (accepted,
but the answer did not show the feature: probes needing it are sent and a wrong answer counts
as damage); error (the check itself failed, e.g. the endpoint is down: says nothing about the
feature).
exit codes: 0 every check ran, 1 some check ended in error, 2 usage or config error
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "endpoints",
        help="inspect configured endpoints",
        description="Inspect the configured endpoints.",
        epilog=GROUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    esub = parser.add_subparsers(dest="endpoints_command", metavar="ACTION", required=True)
    check = esub.add_parser(
        "check",
        help="send tiny requests and report which features each endpoint supports",
        description="Send tiny requests to each endpoint and report support for streaming "
        "usage, logprobs (and the most alternatives returned), tools, json_object, "
        "json_schema and seed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--config", help="config file (default: $VVTUI_CONFIG or user config dir)")
    check.add_argument(
        "--endpoint",
        action="append",
        metavar="NAME",
        help="check only this endpoint (repeatable)",
    )
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also say why supported and unsupported features got their status "
        "(errors always say why)",
    )
    check.set_defaults(func=cmd_check)


def format_line(caps: Any, width: int) -> str:
    from vvtui.features import FEATURES

    parts = []
    # Named as in --json and -v output, so one word finds a feature in all three.
    for feature in FEATURES:
        support = caps.features.get(feature)
        status = support.status if support else "error"
        if feature == "logprobs" and status == "supported" and caps.max_top_logprobs is not None:
            status = f"supported(top {caps.max_top_logprobs})"
        parts.append(f"{feature}={status}")
    return f"{caps.endpoint:<{width}}  " + "  ".join(parts)


def reason_lines(caps: Any, verbose: bool) -> list[str]:
    """Why features got their status: always for errors (a missing key or a dead endpoint is
    the first thing to fix), for every status with -v. Features sharing one reason share one
    line: a missing key fails every check with the same sentence."""
    groups: dict[tuple[str, str], list[str]] = {}
    for feature, support in caps.features.items():
        if support.detail and (verbose or support.status == "error"):
            groups.setdefault((support.status, support.detail), []).append(feature)
    lines = []
    for (status, detail), features in groups.items():
        every = len(features) == len(caps.features) > 1
        lines.append(f"  {'every check' if every else ', '.join(features)}: {status}: {detail}")
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from vvtui.clients import new_http_client
    from vvtui.clients.capabilities import check_endpoints, save_cached
    from vvtui.config import load_config, resolve_config_path
    from vvtui.redact import redact

    config = load_config(resolve_config_path(args.config))
    endpoints = config.endpoints
    if args.endpoint:
        endpoints = [config.endpoint(name) for name in args.endpoint]

    async def go() -> list[Any]:
        concurrency = sum(min(e.max_concurrency, 3) for e in endpoints) + 2
        async with new_http_client(max_connections=concurrency) as http:
            return await check_endpoints(endpoints, http)

    results = asyncio.run(go())
    saved = save_cached(endpoints, results)
    if args.json:
        print(redact(json.dumps([c.to_dict() for c in results], indent=1)))
    else:
        width = max(len(c.endpoint) for c in results)
        for caps in results:
            print(redact(format_line(caps, width)))
            for line in reason_lines(caps, args.verbose):
                print(redact(line))
    print(
        f"vvtui: saved to {saved}; runs in the next 7 days leave out probes an endpoint refused",
        file=sys.stderr,
    )
    errored = [c.endpoint for c in results if c.errors()]
    if errored:
        where = "in the JSON above" if args.json else "above"
        print(
            f"vvtui: some checks could not run on: {', '.join(errored)} (reasons {where})",
            file=sys.stderr,
        )
        return 1
    return 0
