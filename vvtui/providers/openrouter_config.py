"""Turning OpenRouter's endpoint listing into a vvtui config: one pinned endpoint per provider.

Pinning is the point. OpenRouter load-balances across hosts by default and silently drops
parameters a host does not support, so an unpinned endpoint measures "whoever answered" with
"whatever was honoured". Each generated endpoint therefore sends
`provider = {order = [tag], allow_fallbacks = false, require_parameters = true}`: that host or
an error, and a host that cannot honour e.g. logprobs refuses instead of quietly ignoring them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vvtui.config import parse_config
from vvtui.errors import UsageError
from vvtui.providers.openrouter import (
    OPENROUTER_API,
    ProviderEndpoint,
    match_endpoints,
    split_model,
)
from vvtui.toml_writer import format_comment, join_blocks, table_lines

# Request parameters vvtui probes send; a pinned host that does not list one fails those probes
# (require_parameters = true), which the generated config says up front.
_PROBE_PARAMETERS = (
    "logprobs",
    "top_logprobs",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "structured_outputs",
)


def choose_reference(
    model: str, endpoints: Sequence[ProviderEndpoint], requested: str | None
) -> tuple[ProviderEndpoint, str]:
    """The endpoint to mark `reference = true`, and why (for a comment and the CLI's message).

    `requested` (a tag, provider slug or display name) wins; else the model author's own
    endpoint (moonshotai for moonshotai/..., the first-party host); else the first listed.
    """
    if not endpoints:
        raise UsageError(f"OpenRouter lists no provider for {model}")
    tags = ", ".join(e.tag for e in endpoints)
    if requested:
        matches = match_endpoints(requested, endpoints)
        if not matches:
            raise UsageError(
                f"--reference {requested!r} matches no provider of {split_model(model)[0]}",
                hint=f"one of: {tags}",
            )
        if len(matches) > 1:
            raise UsageError(
                f"--reference {requested!r} matches several endpoints "
                f"({', '.join(e.tag for e in matches)})",
                hint="name one by its tag",
            )
        return matches[0], f"named with --reference {requested}"
    author = split_model(model)[0].split("/", 1)[0]
    first_party = match_endpoints(author, endpoints)
    if first_party:
        return first_party[0], f"{author} is the model's author (first-party host)"
    return endpoints[0], (
        f"no --reference given and {author} does not serve the model itself: "
        "the first listed provider is the reference (pass --reference to choose)"
    )


def endpoint_name(endpoint: ProviderEndpoint) -> str:
    return "or-" + (re.sub(r"[^a-z0-9]+", "-", endpoint.tag.lower()).strip("-") or "provider")


def _money(value: float | None) -> str:
    return "?" if value is None else f"${value:g}"


def _describe(endpoint: ProviderEndpoint) -> list[str]:
    quant = endpoint.quantization or "quantization not stated"
    context = f"{endpoint.context_length:,} context" if endpoint.context_length else "context ?"
    lines = [
        f"{endpoint.provider} ({endpoint.tag}): {quant}, {_money(endpoint.price_in)} in / "
        f"{_money(endpoint.price_out)} out per Mtok, {context}"
    ]
    missing = [p for p in _PROBE_PARAMETERS if p not in endpoint.supported_parameters]
    if endpoint.supported_parameters and missing:
        lines.append(
            f"Does not list: {', '.join(missing)} (probes sending them fail here, by design)"
        )
    if not endpoint.supported_parameters:
        lines.append("OpenRouter lists no supported parameters for this host")
    if endpoint.status is not None and endpoint.status < 0:
        lines.append(f"OpenRouter reports status {endpoint.status} (degraded) for this host")
    return lines


def _endpoint_row(
    endpoint: ProviderEndpoint, name: str, model: str, base_url: str, api_key_env: str | None
) -> dict[str, Any]:
    price = endpoint.price
    return {
        "name": name,
        "base_url": base_url,
        "model": model,
        "api_key_env": api_key_env,
        "reference": None,
        "price": None if price is None else {"input": price.input, "output": price.output},
        # Asking a host that lacks logprobs for them, with require_parameters, fails every request.
        "logprobs": None if endpoint.supports_logprobs else False,
        "extra_body": {
            "provider": {
                "order": [endpoint.tag],
                "allow_fallbacks": False,
                "require_parameters": True,
            }
        },
        "labels": {
            "quant": endpoint.quantization or "unknown",
            "via": "openrouter",
            "provider": endpoint.provider,
            # The window the router advertises: the conformance context probe sizes by it.
            "context_length": (str(endpoint.context_length) if endpoint.context_length else None),
        },
    }


def build_config(
    model: str,
    endpoints: Sequence[ProviderEndpoint],
    *,
    reference: ProviderEndpoint,
    reference_reason: str,
    api_key_env: str | None = "OPENROUTER_API_KEY",
    base_url: str = OPENROUTER_API,
    exacto: str | None = None,
    header: Sequence[str] = (),
) -> str:
    """TOML text with one `[[endpoint]]` per provider endpoint (the reference first), plus a
    `:exacto` endpoint when `exacto` (the reason it is offered) is given.

    The text is checked with vvtui.config.parse_config before it is returned.
    """
    base, _ = split_model(model)
    ordered = [reference, *(e for e in endpoints if e is not reference)]
    names: set[str] = set()
    blocks: list[list[str]] = []
    preamble = [
        *header,
        f"vvtui endpoints for {base} via OpenRouter, one per provider.",
        "Each pins its host: provider.order = [tag] with allow_fallbacks = false (no silent",
        "switch to another host) and require_parameters = true (a host that cannot honour a",
        "parameter such as logprobs refuses instead of silently dropping it).",
        "Prices are OpenRouter's list prices (USD per Mtok) when this was written; delete a",
        "price line to have vvtui fetch it from OpenRouter before each run.",
        "Check it with `vvtui config check --config <this file>`.",
    ]
    blocks.append([line for text in preamble for line in format_comment(text)])
    for endpoint in ordered:
        name = endpoint_name(endpoint)
        while name in names:
            name += "-2"
        names.add(name)
        row = _endpoint_row(endpoint, name, base, base_url, api_key_env)
        comments = _describe(endpoint)
        if endpoint is reference:
            row["reference"] = True
            comments.append(f"Reference: {reference_reason}.")
        if row["logprobs"] is False:
            comments.append("logprobs = false: this host does not list logprobs.")
        blocks.append(table_lines("endpoint", row, array=True, comments=comments))
    if exacto is not None:
        name = "or-exacto"
        while name in names:
            name += "-2"
        row = {
            "name": name,
            "base_url": base_url,
            "model": f"{base}:exacto",
            "api_key_env": api_key_env,
            # Requiring logprobs would narrow Exacto's quality-first choice to logprob hosts.
            "logprobs": False,
            "extra_body": {"provider": {"require_parameters": True}},
            "labels": {"quant": "mixed", "via": "openrouter", "route": "exacto"},
        }
        comments = [
            ":exacto: OpenRouter picks the host quality-first (tool-calling signals) per request.",
            f"Offered because {exacto}.",
            "No price: vvtui fills it from OpenRouter before a run (the cheapest listed host;",
            "the host Exacto picks may cost more). logprobs off so they do not narrow the choice.",
        ]
        blocks.append(table_lines("endpoint", row, array=True, comments=comments))
    text = join_blocks(blocks)
    parse_config(text)  # never write a config vvtui itself would reject
    return text
