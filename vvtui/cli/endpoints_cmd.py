"""`vvtui endpoints check`: which optional features each configured endpoint really supports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Iterable
from typing import Any

from vvtui.cli import conformance_opts

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

conformance (14 requests per endpoint, judged against the reference): max_tokens honoured and
never silently lowered, stop honoured, temperature 0 and 1 honoured, logprobs well formed, usage
billed as the reference bills it, a fact kept across the context window, streamed tool calls
whole. Each pass, fail or not measured, with its reason under -v (failures always).

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
    conformance_opts.add_arguments(check)
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


def reason_lines(caps: Any, verbose: bool, seen: set[str] | None = None) -> list[str]:
    """Why features got their status: always for errors (a missing key or a dead endpoint is
    the first thing to fix), for every status with -v. Features sharing one reason share one
    line: a missing key fails every check with the same sentence."""
    return grouped_lines(
        ((f, s.status, s.detail) for f, s in caps.features.items()),
        len(caps.features),
        lambda status: verbose or status == "error",
        seen=seen,
    )


def grouped_lines(
    items: Iterable[tuple[str, str, str]],
    total: int,
    shown: Callable[[str], bool],
    always: Collection[str] = (),
    seen: set[str] | None = None,
) -> list[str]:
    """`  name, name: status: reason` for each (status, reason) that `shown` admits (and for the
    names in `always`), the names sharing it on one line (`every check` when all `total` do), so
    no sentence repeats; a reason already in `seen` (printed above) is not spelled out again,
    even inside another."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, status, detail in items:
        if detail and (shown(status) or name in always):
            groups.setdefault((status, detail), []).append(name)
    lines = []
    for (status, detail), names in groups.items():
        every = len(names) == total > 1
        if seen is not None:
            known = next((text for text in seen if text in detail), None)
            if known is None:
                seen.add(detail)
            else:  # e.g. "request failed: <the missing-key sentence printed above>"
                detail = detail.replace(known, "the reason above")
        lines.append(f"  {'every check' if every else ', '.join(names)}: {status}: {detail}")
    return lines


def conformance_lines(
    entries: dict[str, dict[str, Any]], *, verbose: bool, seen: set[str] | None = None
) -> list[str]:
    """`conformance` section: one line per endpoint, then each failed check's reason (every
    check's with `verbose`)."""
    from vvtui.scoring.conformance import FAIL, summary_line

    width = max(len(name) for name in entries)
    lines = [f"{'conformance':<{width}}  checks against the reference (requests, tokens in+out)"]
    for name, entry in entries.items():
        if not entry:
            lines.append(f"{name:<{width}}  not checked")
            continue
        cost = (
            f"{entry.get('requests', 0)} requests, "
            f"{entry.get('prompt_tokens', 0)}+{entry.get('completion_tokens', 0)} tokens"
        )
        lines.append(f"{name:<{width}}  {summary_line(entry)}  ({cost})")
        failed = set(entry.get("failed") or [])
        checks = entry.get("checks") or {}
        lines += grouped_lines(
            ((check, str(o.get("status")), o.get("reason", "")) for check, o in checks.items()),
            len(checks),
            lambda status: verbose or status == FAIL,
            always=failed,
            seen=seen,
        )
    return lines


def cmd_check(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from vvtui.clients import new_http_client
    from vvtui.clients.capabilities import apply_capabilities, check_endpoints, save_cached
    from vvtui.config import load_config, resolve_config_path
    from vvtui.redact import redact
    from vvtui.scoring.conformance import score_entry

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
    apply_capabilities(endpoints, {c.endpoint: c for c in results})
    # Judged against the reference: it is checked too even when --endpoint leaves it out.
    ref = config.reference
    judged = endpoints if ref in endpoints else [ref, *endpoints]
    records = conformance_opts.run_conformance(judged, args, quiet=args.json)
    entries = {
        e.name: score_entry(records.get(e.name), None if e is ref else records.get(ref.name))
        for e in judged
        if records
    }
    if args.json:
        rows = [{**c.to_dict(), "conformance": entries.get(c.endpoint, {})} for c in results]
        print(redact(json.dumps(rows, indent=1)))
    else:
        width = max(len(c.endpoint) for c in results)
        seen: set[str] = set()  # reasons printed once, then referred to
        for caps in results:
            print(redact(format_line(caps, width)))
            for line in reason_lines(caps, args.verbose, seen):
                print(redact(line))
        if entries:
            print()
            for line in conformance_lines(entries, verbose=args.verbose, seen=seen):
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
