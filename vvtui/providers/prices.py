"""Prices for OpenRouter endpoints that leave `price` out of the config.

OpenRouter publishes each host's list price per model; a config that pins a host need not copy
it. Before a run, `fill_prices` looks the missing prices up (`GET /models/{author}/{slug}/
endpoints`), picks the pinned host's (`extra_body.provider.order[0]`), or, unpinned, the one the
routing preferences point at (cheapest by default), and marks them `Price.source =
"openrouter"`. Answers are cached for a day in the user cache dir so a run does not wait on the
network; offline, a stale cache is used with a warning rather than leaving costs blank.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from vvtui.config import Config, EndpointConfig
from vvtui.errors import VvtuiError
from vvtui.model import Price
from vvtui.providers.openrouter import (
    ModelNotFoundError,
    ProviderEndpoint,
    fetch_endpoints,
    is_openrouter,
    match_endpoints,
    split_model,
)
from vvtui.providers.routing import pinned_provider
from vvtui.redact import read_secret
from vvtui.storage import write_atomic

CACHE_NAME = "openrouter-prices.json"
CACHE_VERSION = 1
DEFAULT_TTL_S = 24 * 3600.0
# Entries older than this are dropped when the cache is rewritten; a month-old price is no
# better than none.
MAX_KEPT_S = 30 * 24 * 3600.0


def default_cache_path() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("vvtui", appauthor=False) / CACHE_NAME


# --------------------------------------------------------------------------------------------
# Cache


@dataclass(slots=True)
class CacheEntry:
    fetched_at: float  # time.time() of the fetch
    endpoints: list[ProviderEndpoint]


def load_cache(path: Path) -> tuple[dict[str, CacheEntry], str | None]:
    """The cached listings by model, and a note when the file was there but unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"ignoring unreadable price cache {path}: {exc}"
    try:
        data = json.loads(text)
        if data.get("version") != CACHE_VERSION:
            return {}, None  # another format: refetch quietly
        entries = {
            str(model): CacheEntry(
                float(raw["fetched_at"]),
                [ProviderEndpoint.from_dict(e) for e in raw["endpoints"]],
            )
            for model, raw in data["models"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return {}, f"ignoring corrupt price cache {path} ({type(exc).__name__})"
    return entries, None


def save_cache(path: Path, entries: dict[str, CacheEntry], now: float) -> None:
    models = {
        model: {
            "fetched_at": entry.fetched_at,
            "endpoints": [e.to_dict() for e in entry.endpoints],
        }
        for model, entry in sorted(entries.items())
        if now - entry.fetched_at < MAX_KEPT_S
    }
    payload = {"version": CACHE_VERSION, "source": "openrouter.ai models API", "models": models}
    write_atomic(path, json.dumps(payload, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# Choosing the price an endpoint will pay


def _money(price: Price) -> str:
    return f"${price.input:g}/${price.output:g} per Mtok"


def _blended(e: ProviderEndpoint) -> float:
    return (e.price_in or 0.0) + (e.price_out or 0.0)


def _routing(endpoint: EndpointConfig) -> dict[str, Any]:
    routing = endpoint.extra_body.get("provider")
    return routing if isinstance(routing, dict) else {}


def _candidates(
    routing: dict[str, Any], endpoints: Sequence[ProviderEndpoint]
) -> list[ProviderEndpoint]:
    """The hosts OpenRouter may route to under `only`, `ignore` and `quantizations`."""
    chosen = list(endpoints)
    only = routing.get("only")
    if isinstance(only, list) and only:
        allowed = {
            id(e) for slug in only if isinstance(slug, str) for e in match_endpoints(slug, chosen)
        }
        chosen = [e for e in chosen if id(e) in allowed]
    ignore = routing.get("ignore")
    if isinstance(ignore, list) and ignore:
        dropped = {
            id(e) for slug in ignore if isinstance(slug, str) for e in match_endpoints(slug, chosen)
        }
        chosen = [e for e in chosen if id(e) not in dropped]
    quants = routing.get("quantizations")
    if isinstance(quants, list) and quants:
        wanted = {q.lower() for q in quants if isinstance(q, str)}
        chosen = [e for e in chosen if (e.quantization or "unknown").lower() in wanted]
    return chosen


def _sort_mode(endpoint: EndpointConfig, routing: dict[str, Any]) -> str:
    sort = routing.get("sort")
    if isinstance(sort, dict):
        sort = sort.get("by")
    if sort in ("price", "throughput", "latency"):
        return str(sort)
    variant = split_model(endpoint.model)[1]
    if variant == "nitro":
        return "throughput"
    return "price"  # OpenRouter's default is price-weighted; :floor is price-first


def select_price(
    endpoint: EndpointConfig, endpoints: Sequence[ProviderEndpoint]
) -> tuple[Price | None, str]:
    """The price `endpoint` will pay among OpenRouter's listed hosts, and a one-line note.

    Pinned (`provider.order[0]`): that host's price (the dearest, if the pin names a provider
    with several endpoints). Unpinned: the host the routing preferences favour (cheapest by
    default; fastest for `sort = "throughput"` or `:nitro`; quickest for `sort = "latency"`),
    which is an estimate: the router may pick another host per request.
    """
    model = split_model(endpoint.model)[0]
    name = endpoint.name
    priced = [e for e in endpoints if e.price is not None]
    pinned = pinned_provider(endpoint)
    if pinned is not None:
        matches = match_endpoints(pinned, endpoints)
        if not matches:
            serving = ", ".join(e.tag for e in endpoints) or "nobody"
            return None, (
                f"{name}: no price: pinned provider {pinned!r} does not serve {model} on "
                f"OpenRouter (serving: {serving})"
            )
        with_price = [e for e in matches if e.price is not None]
        if not with_price:
            return None, f"{name}: no price: OpenRouter lists none for {matches[0].tag}"
        chosen = max(with_price, key=_blended)
        price = chosen.price
        assert price is not None
        if len(matches) > 1:
            tags = ", ".join(e.tag for e in matches)
            return price, (
                f"{name}: {_money(price)} from OpenRouter; pinned {pinned!r} matches {tags}: "
                f"using the dearest ({chosen.tag}); pin a tag to be exact"
            )
        return price, f"{name}: {_money(price)} from OpenRouter ({chosen.tag})"

    candidates = _candidates(_routing(endpoint), priced)
    if not candidates:
        return None, f"{name}: no price: OpenRouter lists no priced host for {model}"
    mode = _sort_mode(endpoint, _routing(endpoint))
    if mode == "throughput" and any(e.throughput_p50 is not None for e in candidates):
        chosen = max(
            candidates, key=lambda e: -math.inf if e.throughput_p50 is None else e.throughput_p50
        )
        how = "the fastest"
    elif mode == "latency" and any(e.latency_p50 is not None for e in candidates):
        chosen = min(candidates, key=lambda e: math.inf if e.latency_p50 is None else e.latency_p50)
        how = "the quickest"
    else:
        chosen = min(candidates, key=_blended)
        how = "the cheapest"
    dearest = max(candidates, key=_blended)
    price = chosen.price
    assert price is not None and dearest.price is not None
    spread = ""
    if _blended(dearest) > _blended(chosen):
        spread = f"; the router may pick another, up to {_money(dearest.price)} ({dearest.tag})"
    return price, (
        f"{name}: not pinned: {_money(price)}, {how} of {len(candidates)} OpenRouter host(s) "
        f"({chosen.tag}){spread}"
    )


# --------------------------------------------------------------------------------------------
# Filling a config


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


async def _fetch_group(
    model: str, group: Sequence[EndpointConfig], http: httpx.AsyncClient
) -> list[ProviderEndpoint]:
    first = group[0]
    return await fetch_endpoints(
        model, http=http, base_url=first.base_url, api_key=read_secret(first.api_key_env)
    )


async def fill_prices(
    config: Config,
    http: httpx.AsyncClient,
    *,
    now: Callable[[], float] = time.time,
    cache_path: Path | None = None,
    ttl_s: float = DEFAULT_TTL_S,
) -> list[str]:
    """Set `price` (source "openrouter") on OpenRouter endpoints that have none; return notes.

    Only endpoints whose base_url is OpenRouter's, that are not simulated and have no price are
    touched; the config is changed in place. Listings come from the cache when younger than
    `ttl_s`; otherwise they are fetched (one request per model) and the cache rewritten. When a
    fetch fails and a stale listing is cached, the stale one is used and a note says so; with
    nothing cached the price stays unset and a note says why. Never raises for network or API
    failures: a missing price must not stop a run.
    """
    targets = [
        e
        for e in config.endpoints
        if e.price is None and not e.simulated and is_openrouter(e.base_url)
    ]
    if not targets:
        return []
    path = cache_path if cache_path is not None else default_cache_path()
    entries, cache_note = load_cache(path)
    notes = [cache_note] if cache_note else []
    t = now()

    groups: dict[str, list[EndpointConfig]] = {}
    for e in targets:
        groups.setdefault(split_model(e.model)[0], []).append(e)

    def fresh(model: str) -> bool:
        entry = entries.get(model)
        return entry is not None and 0 <= t - entry.fetched_at < ttl_s

    stale_models = [m for m in groups if not fresh(m)]
    results = await asyncio.gather(
        *(_fetch_group(m, groups[m], http) for m in stale_models), return_exceptions=True
    )
    usable: dict[str, list[ProviderEndpoint]] = {
        m: entries[m].endpoints for m in groups if fresh(m)
    }
    changed = False
    for model, result in zip(stale_models, results, strict=True):
        names = ", ".join(e.name for e in groups[model])
        if isinstance(result, list):
            entries[model] = CacheEntry(t, result)
            usable[model] = result
            changed = True
        elif isinstance(result, VvtuiError):
            cached = entries.get(model)
            if cached is not None and not isinstance(result, ModelNotFoundError):
                usable[model] = cached.endpoints
                notes.append(
                    f"warning: {result}; using OpenRouter prices for {model} cached "
                    f"{_age(t - cached.fetched_at)} ago"
                )
            else:
                notes.append(f"no price for {names}: {result}")
        else:
            raise result  # a bug or a cancellation, not a price problem

    for e in targets:
        listing = usable.get(split_model(e.model)[0])
        if listing is None:
            continue
        price, note = select_price(e, listing)
        if price is not None:
            e.price = price
        notes.append(note)

    if changed:
        try:
            save_cache(path, entries, t)
        except OSError as exc:
            notes.append(f"could not write the price cache {path}: {exc}")
    return notes
