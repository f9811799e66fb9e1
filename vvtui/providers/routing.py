"""Which upstream host answered, against the one an endpoint pins: the routing rule the runner
applies to every OpenRouter response (`provider_mismatch`). Plain string work on the endpoint's
config, apart from the OpenRouter client, so the runner needs neither httpx nor the listing
parser to apply it."""

from __future__ import annotations

import re

from vvtui.config import EndpointConfig


def provider_key(name: str) -> str:
    """A comparable form of a provider slug or display name.

    'deepinfra/fp4', 'DeepInfra' -> 'deepinfra'; 'Moonshot AI', 'moonshotai' -> 'moonshotai';
    'google-ai-studio', 'Google AI Studio' -> 'googleaistudio'.
    """
    head = name.strip().lower().split("/", 1)[0]
    return re.sub(r"[^a-z0-9]", "", head)


def same_provider(a: str, b: str) -> bool:
    """Whether two provider names (slug or display name) plausibly mean the same host.

    Equal keys match; so does one key being a prefix of the other when the shorter has at least 4
    characters, because display names and slugs differ by suffixes ("Google" is the display name
    of 'google-vertex', "Nebius AI Studio" of 'nebius'). The price of that tolerance: 'google' and
    'google-ai-studio' also match, so a fallback between Google's two hosts goes unflagged.
    """
    ka, kb = provider_key(a), provider_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    short, long = sorted((ka, kb), key=len)
    return len(short) >= 4 and long.startswith(short)


def pinned_provider(endpoint: EndpointConfig) -> str | None:
    """`extra_body.provider.order[0]` when the endpoint pins one, else None."""
    routing = endpoint.extra_body.get("provider")
    if not isinstance(routing, dict):
        return None
    order = routing.get("order")
    if isinstance(order, list) and order and isinstance(order[0], str) and order[0].strip():
        return order[0].strip()
    return None


def provider_mismatch(endpoint: EndpointConfig, upstream: str | None) -> bool:
    """True when a response's upstream `provider` is not the one the endpoint pins first.

    `upstream` is the top-level `provider` field of an OpenRouter response (a display name such
    as "DeepInfra"); the pin is a slug such as "deepinfra/fp4". They are compared with
    `same_provider` (case-, punctuation- and variant-insensitive). Nothing to compare (no pin, no
    upstream reported) is not a mismatch.
    """
    pinned = pinned_provider(endpoint)
    if pinned is None or upstream is None or not upstream.strip():
        return False
    return not same_provider(pinned, upstream)
