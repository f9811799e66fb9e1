"""`vvtui openrouter endpoints MODEL`: every host OpenRouter routes a model to, and a config that
pins each one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from vvtui.providers.openrouter import ProviderEndpoint

# Tests (and embedders) replace this with a factory returning a client on a mock transport.
CLIENT_FACTORY: Callable[[], httpx.AsyncClient] | None = None

GROUP_EPILOG = """\
examples:
  vvtui openrouter endpoints moonshotai/kimi-k2-0905      every host of a model (`endpoints --help`)
"""
EPILOG = """\
examples:
  vvtui openrouter endpoints moonshotai/kimi-k2-0905
  vvtui openrouter endpoints moonshotai/kimi-k2-0905 --sort price --max 5
  vvtui openrouter endpoints moonshotai/kimi-k2-0905 --write-config kimi.toml --reference moonshotai
  vvtui openrouter endpoints z-ai/glm-4.6 --json | jq '.endpoints[].tag'

then: vvtui run --config kimi.toml

The written config pins each host (provider.order = [tag], allow_fallbacks = false,
require_parameters = true) and marks one reference: --reference, else the model author's own
endpoint, else the first listed. A :exacto endpoint is added when OpenRouter offers it.

exit codes: 0 ok, 2 usage error, unknown model, network or API failure
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "openrouter",
        help="list the providers OpenRouter routes a model to; write a pinned config",
        epilog=GROUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    osub = parser.add_subparsers(dest="openrouter_command", metavar="ACTION", required=True)
    endpoints = osub.add_parser(
        "endpoints",
        help="every provider endpoint for a model: quantization, price, speed, uptime",
        description="List every provider endpoint OpenRouter has for MODEL "
        "(GET /api/v1/models/{author}/{slug}/endpoints).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    endpoints.add_argument(
        "model", metavar="MODEL", help="author/slug, e.g. moonshotai/kimi-k2-0905"
    )
    endpoints.add_argument("--json", action="store_true", help="print JSON instead of a table")
    endpoints.add_argument(
        "--write-config",
        metavar="FILE",
        help="write a vvtui config with one pinned [[endpoint]] per provider",
    )
    endpoints.add_argument(
        "--force", action="store_true", help="let --write-config overwrite an existing file"
    )
    endpoints.add_argument(
        "--reference",
        metavar="PROVIDER",
        help="provider tag or name to mark reference = true (e.g. moonshotai)",
    )
    endpoints.add_argument(
        "--api-key-env",
        default="OPENROUTER_API_KEY",
        metavar="VAR",
        help="environment variable holding the key (default: OPENROUTER_API_KEY); "
        "also written as api_key_env",
    )
    endpoints.add_argument(
        "--max", type=int, metavar="N", help="only the first N endpoints (after --sort)"
    )
    endpoints.add_argument(
        "--sort",
        choices=("price", "throughput", "latency"),
        help="cheapest (input + output), fastest or quickest first (default: OpenRouter's order)",
    )
    endpoints.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="OpenRouter API root (default: https://openrouter.ai/api/v1)",
    )
    endpoints.set_defaults(func=cmd_endpoints)


def _client() -> httpx.AsyncClient:
    import httpx

    from vvtui import __version__

    if CLIENT_FACTORY is not None:
        return CLIENT_FACTORY()
    return httpx.AsyncClient(
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": f"vvtui/{__version__}"},
        follow_redirects=True,
    )


async def _fetch(model: str, base_url: str, api_key: str | None) -> list[ProviderEndpoint]:
    from vvtui.providers.openrouter import fetch_endpoints

    async with _client() as http:
        return await fetch_endpoints(model, http=http, base_url=base_url, api_key=api_key)


def cmd_endpoints(args: argparse.Namespace) -> int:
    import asyncio
    import json
    from pathlib import Path

    from vvtui.errors import ConfigError, UsageError
    from vvtui.providers.openrouter import (
        OPENROUTER_API,
        OpenRouterError,
        exacto_reason,
        sort_endpoints,
        split_model,
    )
    from vvtui.providers.openrouter_config import build_config, choose_reference
    from vvtui.redact import read_secret
    from vvtui.storage import write_atomic

    if args.max is not None and args.max < 1:
        raise UsageError("--max must be at least 1")
    if args.force and not args.write_config:
        raise UsageError("--force only applies with --write-config")
    target = Path(args.write_config) if args.write_config else None
    # Refuse before any network traffic: a typo should not cost a request.
    if target is not None and target.exists() and not args.force:
        raise ConfigError(f"{target}: already exists", hint="pass --force to overwrite it")

    base_url = (args.base_url or OPENROUTER_API).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url {base_url!r} must start with http:// or https://")
    api_key = read_secret(args.api_key_env) if args.api_key_env else None
    if not api_key and args.api_key_env:
        print(
            f"note: ${args.api_key_env} is not set; listing without a key "
            "(OpenRouter may leave latency figures out)",
            file=sys.stderr,
        )

    endpoints = asyncio.run(_fetch(args.model, base_url, api_key))
    base, variant = split_model(args.model)
    if not endpoints:
        raise OpenRouterError(f"OpenRouter lists no provider for {base} right now")

    shown = sort_endpoints(endpoints, args.sort) if args.sort else list(endpoints)
    if args.max is not None:
        shown = shown[: args.max]

    reference = None
    if args.reference or target is not None:
        reference, reason = choose_reference(base, endpoints, args.reference)
        if reference not in shown:
            # The reference is what every other endpoint is scored against: never cut it.
            shown = [reference, *shown[: (args.max or len(shown)) - 1]]
    exacto = exacto_reason(base, endpoints)

    if target is not None:
        assert reference is not None
        text = build_config(
            base,
            shown,
            reference=reference,
            reference_reason=reason,
            api_key_env=args.api_key_env or None,
            base_url=base_url,
            exacto=exacto,
            header=[f"Written by `vvtui openrouter endpoints {base}` on {_now_utc()}."],
        )
        write_atomic(target, text)
        count = len(shown) + (exacto is not None)
        print(
            f"wrote {target}: {count} endpoint(s), reference {reference.tag} ({reason})",
            file=sys.stderr if args.json else sys.stdout,
        )

    if args.json:
        payload = {
            "model": base,
            "variant": variant,
            "exacto_offered": exacto is not None,
            "reference": reference.tag if reference is not None else None,
            "endpoints": [e.to_dict() for e in shown],
        }
        print(json.dumps(payload, indent=1, ensure_ascii=False))
    else:
        print(format_table(shown, reference=reference))
        if exacto is not None:
            print(f"\n{base}:exacto is offered too ({exacto}).")
    return 0


def _now_utc() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------
# Table


def _price(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.3g}"


def _caps(e: ProviderEndpoint) -> str:
    flags = [
        ("L", e.supports_logprobs),
        ("T", e.supports_tools),
        ("J", e.supports_response_format),
        ("S", e.supports_structured_outputs),
    ]
    return " ".join(letter if ok else "-" for letter, ok in flags)


def table_rows(
    endpoints: Sequence[ProviderEndpoint], reference: ProviderEndpoint | None = None
) -> list[list[str]]:
    rows = [
        [
            "PROVIDER",
            "TAG",
            "QUANT",
            "$IN/M",
            "$OUT/M",
            "CONTEXT",
            "UPTIME",
            "TTFT P50",
            "TOK/S P50",
            "CAPS",
            "NOTE",
        ]
    ]
    for e in endpoints:
        notes = []
        if e is reference:
            notes.append("reference")
        if e.status is not None and e.status < 0:
            notes.append(f"status {e.status}")
        rows.append(
            [
                e.provider,
                e.tag,
                e.quantization or "?",
                _price(e.price_in),
                _price(e.price_out),
                f"{e.context_length:,}" if e.context_length else "?",
                f"{e.uptime:.1f}%" if e.uptime is not None else "?",
                f"{e.latency_p50:,.0f} ms" if e.latency_p50 is not None else "?",
                f"{e.throughput_p50:.1f}" if e.throughput_p50 is not None else "?",
                _caps(e),
                ", ".join(notes),
            ]
        )
    return rows


_RIGHT = {3, 4, 5, 6, 7, 8}


def format_table(
    endpoints: Sequence[ProviderEndpoint], reference: ProviderEndpoint | None = None
) -> str:
    rows = table_rows(endpoints, reference)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in _RIGHT else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(
        "$/M: USD per million tokens. TTFT: time to first token over the last 30 min. "
        "CAPS: L logprobs, T tools, J response_format, S json_schema."
    )
    return "\n".join(lines)
