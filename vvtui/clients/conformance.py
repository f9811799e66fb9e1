"""Sending the conformance requests: a few cheap requests per endpoint, reduced to plain
`Observation`s that vvtui.scoring.conformance judges (against the reference's).

Per endpoint (14 requests; see docs/probes.md for the token cost of each):
    max_tokens      1  streamed, max_tokens=8 on an answer longer than that
    long            1  streamed, a ~300-token answer with max_tokens=600
    stop            1  streamed, counting with stop=["7"]
    greedy          2  streamed, temperature 0, top_logprobs=5 (also the logprobs and usage checks)
    sampled         4  streamed, temperature 1
    whole           1  the greedy request, not streamed (usage from servers that omit it in streams)
    context         1  a fact, ~N tokens of filler, a question about the fact
    context_short   1  the same fact and question without the filler (the control)
    tool_streamed   1  a forced tool call, streamed
    tool_whole      1  the same, not streamed
Observations are cached (like capabilities) for a week per endpoint and context length, so a run
after `vvtui endpoints check` does not pay again. Simulated endpoints are never cached: their
port changes with every start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvtui.clients.capabilities import (
    CACHE_TTL_S,
    FORCED_TOOL_QUESTION,
    endpoint_identity,
    forced_tool_fields,
    is_fresh,
    merge_cache,
    read_cache,
)
from vvtui.config import EndpointConfig
from vvtui.model import TRANSPORT_KINDS, Probe, Result
from vvtui.scoring import conformance as cf

if TYPE_CHECKING:
    import httpx

    from vvtui.clients.retry import RetryPolicy

MAX_TOKENS_SMALL = 8
LONG_COUNT = 150
LONG_MAX_TOKENS = 600
STOP_AT = "7"
GREEDY_MAX_TOKENS = 48
SAMPLES = 4
SAMPLE_MAX_TOKENS = 24
CONTEXT_MAX_TOKENS = 24
# Conformance requests in flight across all endpoints at once: they are a pre-flight, not a load
# test, and a burst of long prompts must not time out on a shared host.
MAX_IN_FLIGHT = 12
# Transport failures of one endpoint after which its remaining checks are not sent.
DOWN_AFTER = 2
# Characters per token the filler is sized by (English prose in GPT-like tokenizers: ~4).
CHARS_PER_TOKEN = 4.0

_WORDS = ("amber", "cobalt", "saffron", "juniper", "quartz", "marble", "falcon", "harbor")
_ROOMS = ("archive", "boiler room", "library", "workshop", "pantry", "studio", "garage")
_THINGS = ("lamp", "ledger", "crate", "kettle", "compass", "ladder", "clock", "map")


def _counting(n: int) -> str:
    return ", ".join(str(i) for i in range(1, n + 1))


def _probe(pid: str, text: str, **kw: Any) -> Probe:
    values: dict[str, Any] = {"suite": "conformance"}
    values.update(kw)
    return Probe(id=f"conformance-{pid}", messages=[{"role": "user", "content": text}], **values)


def context_fact(seed: int) -> str:
    rng = random.Random(seed)
    return f"{rng.choice(_WORDS)}-{rng.randint(1000, 9999)}"


def context_prompt(fact: str, tokens: int, seed: int) -> str:
    """A fact, then filler up to about `tokens` tokens, then a question only the fact answers."""
    rng = random.Random(seed ^ 0x5EED)
    head = f"Remember this access code: {fact}.\n\n"
    tail = "\n\nWhat was the access code given at the very start? Reply with the code only."
    budget = max(0, int(tokens * CHARS_PER_TOKEN) - len(head) - len(tail))
    lines: list[str] = []
    size = 0
    for i in range(1, 100_000):  # bounded: each line adds ~80 characters
        if size >= budget:
            break
        line = (
            f"Note {i}: the {rng.choice(_THINGS)} in the {rng.choice(_ROOMS)} was checked at "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} and found in order."
        )
        lines.append(line)
        size += len(line) + 1
    return head + "\n".join(lines) + tail


def requests(settings: cf.Settings, seed: int) -> list[tuple[str, Probe, bool, dict[str, Any]]]:
    """(key, probe, stream, extra body fields) for every conformance request."""
    count = _probe(
        "max-tokens",
        "Count from 1 to 30, separated by commas. Numbers only.",
        max_tokens=MAX_TOKENS_SMALL,
        answer=_counting(30),
    )
    long = _probe(
        "long",
        f"List the integers from 1 to {LONG_COUNT} in order, separated by commas, and nothing "
        "else.",
        max_tokens=LONG_MAX_TOKENS,
        answer=_counting(LONG_COUNT),
    )
    stop = _probe(
        "stop",
        "Count from 1 to 20, separated by commas. Numbers only.",
        max_tokens=64,
        answer=_counting(20),
    )
    greedy = _probe(
        "greedy",
        "Write two sentences about the history of paper.",
        max_tokens=GREEDY_MAX_TOKENS,
        top_logprobs=settings.top_logprobs,
    )
    sampled = _probe(
        "sampled",
        "Invent a name for a new colour and describe it in one sentence.",
        kind="sampled",
        temperature=1.0,
        max_tokens=SAMPLE_MAX_TOKENS,
    )
    fact = settings.context_fact
    context = _probe(
        "context",
        context_prompt(fact, settings.context_tokens, seed),
        max_tokens=CONTEXT_MAX_TOKENS,
        answer=fact,
    )
    control = _probe(
        "context-short",
        context_prompt(fact, 0, seed),
        max_tokens=CONTEXT_MAX_TOKENS,
        answer=fact,
    )
    tool = _probe("tool", FORCED_TOOL_QUESTION, **forced_tool_fields())
    out: list[tuple[str, Probe, bool, dict[str, Any]]] = [
        ("max_tokens", count, True, {}),
        ("long", long, True, {}),
        ("stop", stop, True, {"stop": [STOP_AT]}),
        ("greedy", greedy, True, {}),
        ("greedy", greedy, True, {}),
    ]
    out += [("sampled", sampled, True, {}) for _ in range(SAMPLES)]
    out += [
        ("whole", greedy, False, {}),
        ("context", context, True, {"vvtui_sim": {"needs": fact}}),
        ("context_short", control, True, {"vvtui_sim": {"needs": fact}}),
        ("tool_streamed", tool, True, {}),
        ("tool_whole", tool, False, {}),
    ]
    return out


def observation(result: Result, probe: Probe, extra: dict[str, Any]) -> cf.Observation:
    """A Result reduced to what the checks read (provider usage only, never an estimate)."""
    billed = result.usage is not None and not result.usage_estimated
    tokens = result.tokens
    with_logprobs = tokens is not None and tokens.logprob is not None
    call = result.tool_calls[0] if result.tool_calls else None
    return cf.Observation(
        text=result.text,
        finish_reason=result.finish_reason,
        prompt_tokens=result.input_tokens if billed else None,
        completion_tokens=result.output_tokens if billed else None,
        tokens=list(tokens.text) if with_logprobs and tokens is not None else None,
        logprobs=list(tokens.logprob or []) if with_logprobs and tokens is not None else None,
        top=(
            [list(row) for row in tokens.top]
            if with_logprobs and tokens is not None and tokens.top is not None
            else None
        ),
        tool_name=call.name if call is not None else None,
        tool_arguments=call.arguments if call is not None else None,
        error=None if result.error is None else f"{result.error.kind}: {result.error.message}",
        error_kind=None if result.error is None else result.error.kind,
        max_tokens=probe.max_tokens,
        stop=list(extra.get("stop") or []),
    )


async def _send(
    endpoint: EndpointConfig,
    http: httpx.AsyncClient,
    retry: RetryPolicy | None,
    probe: Probe,
    stream: bool,
    extra: dict[str, Any],
) -> Result:
    from contextlib import aclosing

    from vvtui.clients import make_client
    from vvtui.clients.accumulate import Accumulator
    from vvtui.clients.base import BaseClient
    from vvtui.clients.request import deep_merge

    client = make_client(endpoint, http, retry=retry)
    # The protocol's whole request, not the runner's narrow interface: every client is one.
    assert isinstance(client, BaseClient)
    acc = Accumulator(endpoint, probe)
    body = client.build_body(probe, 0)
    if not stream:
        body["stream"] = False
        body.pop("stream_options", None)
    sim = extra.get("vvtui_sim")
    fields = {k: v for k, v in extra.items() if k != "vvtui_sim"}
    if endpoint.protocol == "anthropic" and "stop" in fields:
        fields["stop_sequences"] = fields.pop("stop")  # the Messages API's name for it
    body = deep_merge(body, fields)
    if sim and isinstance(body.get("vvtui_sim"), dict):
        body["vvtui_sim"] = deep_merge(body["vvtui_sim"], sim)
    async with aclosing(client.stream_body(body)) as events:
        async for event in events:
            acc.feed(event)
    return acc.result()


async def observe_endpoint(
    endpoint: EndpointConfig,
    http: httpx.AsyncClient,
    settings: cf.Settings,
    *,
    seed: int = 0,
    retry: RetryPolicy | None = None,
    concurrency: int | None = None,
    overall: asyncio.Semaphore | None = None,
) -> cf.Observations:
    """Send every conformance request to one endpoint. Never raises for endpoint trouble.
    `overall` bounds the requests in flight across endpoints checked together."""
    ep = dataclasses.replace(endpoint, max_retries=min(endpoint.max_retries, 1))
    gate = asyncio.Semaphore(max(1, concurrency or min(endpoint.max_concurrency, 4)))
    shared = overall or asyncio.Semaphore(1_000_000)
    # Transport failures so far (refused, timed out, stalled, dropped): from DOWN_AFTER on, the
    # requests not sent yet are not sent. A dead host otherwise held the whole run's first probe
    # back for a timeout per round of requests (~110 s in the fault matrix, all of them failing).
    failures: list[cf.Observation] = []

    async def one(probe: Probe, stream: bool, extra: dict[str, Any]) -> cf.Observation:
        async with gate, shared:
            if len(failures) >= DOWN_AFTER:
                first = failures[0]
                return cf.Observation(
                    error=f"down: not sent after {len(failures)} failures ({first.error})",
                    error_kind="down",
                    max_tokens=probe.max_tokens,
                    stop=list(extra.get("stop") or []),
                )
            try:
                result = await _send(ep, http, retry, probe, stream, extra)
            except Exception as exc:  # a bug in one request must not hide the others
                return cf.Observation(
                    error=f"internal: {type(exc).__name__}: {exc}", error_kind="internal"
                )
        seen = observation(result, probe, extra)
        if seen.error_kind in TRANSPORT_KINDS:
            failures.append(seen)
        return seen

    plan = requests(settings, seed)
    done = await asyncio.gather(*(one(p, s, x) for _key, p, s, x in plan))
    out: cf.Observations = {}
    for (key, _p, _s, _x), obs in zip(plan, done, strict=True):
        out.setdefault(key, []).append(obs)
    return out


def settings_for(
    *, context_tokens: int = 6000, usage_slack: int = cf.DEFAULT_USAGE_SLACK, seed: int = 0
) -> cf.Settings:
    return cf.Settings(
        context_tokens=context_tokens,
        usage_slack=usage_slack,
        context_fact=context_fact(seed),
    )


def declared_missing(endpoint: EndpointConfig) -> set[str]:
    """Features the endpoint is known to lack: refused in `vvtui endpoints check` (the `lacks`
    label), switched off in the config (`logprobs = false`), or absent from its protocol
    (Anthropic's Messages API has no logprobs)."""
    missing = {f for f in endpoint.labels.get("lacks", "").split(",") if f}
    if not endpoint.logprobs or endpoint.protocol == "anthropic":
        missing.add("logprobs")
    return missing


def evaluate_all(
    endpoints: list[EndpointConfig],
    observed: dict[str, cf.Observations],
    settings: cf.Settings,
) -> dict[str, dict[str, Any]]:
    """Each endpoint's conformance record, judged against the reference's observations."""
    ref = next((e for e in endpoints if e.reference), endpoints[0] if endpoints else None)
    ref_obs = observed.get(ref.name) if ref is not None else None
    records: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        obs = observed.get(e.name)
        if obs is None:
            continue
        against = None if ref is not None and e.name == ref.name else ref_obs
        outcomes = cf.evaluate(obs, against, settings, declared_missing(e))
        records[e.name] = cf.record(outcomes, cf.cost_of(obs), settings)
    return records


async def check_conformance(
    endpoints: list[EndpointConfig],
    http: httpx.AsyncClient,
    settings: cf.Settings,
    *,
    seed: int = 0,
    cached: dict[str, cf.Observations] | None = None,
    retry: RetryPolicy | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, cf.Observations]]:
    """Observe every endpoint not in `cached` (all at once), then judge each against the
    reference. Returns (records by name, observations by name)."""
    observed = dict(cached or {})
    todo = [e for e in endpoints if e.name not in observed]
    overall = asyncio.Semaphore(MAX_IN_FLIGHT)
    fresh = await asyncio.gather(
        *(
            observe_endpoint(e, http, settings, seed=seed, retry=retry, overall=overall)
            for e in todo
        )
    )
    for e, obs in zip(todo, fresh, strict=True):
        observed[e.name] = obs
    return evaluate_all(endpoints, observed, settings), observed


# --------------------------------------------------------------------------------------------
# Cache, beside the capability cache and with its lifetime (CACHE_TTL_S)


def default_cache_path() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("vvtui", appauthor=False) / "conformance.json"


def _cache_key(endpoint: EndpointConfig, settings: cf.Settings) -> str:
    return f"{endpoint_identity(endpoint)}|ctx={settings.context_tokens}"


def load_cached(
    endpoints: list[EndpointConfig],
    settings: cf.Settings,
    path: Path | None = None,
    now: float | None = None,
    ttl_s: float = CACHE_TTL_S,
) -> tuple[dict[str, cf.Observations], str | None]:
    """Fresh cached observations by endpoint name, and the context fact they were made with
    (every cached endpoint must share it, else none is used: the context check compares it)."""
    data = read_cache(path or default_cache_path())
    stamp = time.time() if now is None else now
    found: dict[str, cf.Observations] = {}
    facts: set[str] = set()
    for e in endpoints:
        if e.simulated:
            continue
        entry = data.get(_cache_key(e, settings))
        if not isinstance(entry, dict) or not is_fresh(entry, stamp, ttl_s):
            continue
        try:
            obs = {
                str(k): [cf.Observation.from_dict(o) for o in v]
                for k, v in (entry.get("observations") or {}).items()
            }
        except (TypeError, ValueError, AttributeError):
            continue
        found[e.name] = obs
        facts.add(str(entry.get("fact", "")))
    if len(facts) > 1:
        return {}, None
    return found, (facts.pop() if facts else None)


def save_cached(
    endpoints: list[EndpointConfig],
    observed: dict[str, cf.Observations],
    settings: cf.Settings,
    path: Path | None = None,
    now: float | None = None,
) -> Path:
    stamp = time.time() if now is None else now
    entries = {
        _cache_key(e, settings): {
            "checked_at": stamp,
            "fact": settings.context_fact,
            "observations": {k: [o.to_dict() for o in v] for k, v in obs.items()},
        }
        for e in endpoints
        if (obs := observed.get(e.name)) is not None and not e.simulated
    }
    return merge_cache(path or default_cache_path(), entries)


async def conformance_for_run(
    endpoints: list[EndpointConfig],
    settings: cf.Settings,
    *,
    seed: int = 0,
    cache_path: Path | None = None,
    use_cache: bool = True,
) -> dict[str, dict[str, Any]]:
    """What `run`/`demo`/`endpoints check` call: cached observations where fresh, the rest sent
    now (and cached), every endpoint judged against the reference."""
    from vvtui.clients import new_http_client

    cached: dict[str, cf.Observations] = {}
    if use_cache:
        cached, fact = load_cached(endpoints, settings, cache_path)
        if fact is not None and cached:
            settings.context_fact = fact  # new requests hide the fact the cached ones did
    async with new_http_client(max_connections=MAX_IN_FLIGHT + 2) as http:
        records, observed = await check_conformance(
            endpoints, http, settings, seed=seed, cached=cached
        )
    if use_cache:
        save_cached(endpoints, observed, settings, cache_path)
    return records


# What the context probe may cost on the priciest endpoint by default (USD per endpoint).
DEFAULT_CONTEXT_MAX_USD = 0.01
# Room left in an advertised window for the question's answer and the chat template.
ADVERTISED_SHARE = 0.9
# The most an advertised window is probed to without --context-tokens (latency, and prices a
# config may not know): windows of 128k+ are common, and most truncating hosts cut far below.
ADVERTISED_CEILING = 32_768


def context_tokens_for(
    endpoints: list[EndpointConfig], explicit: int | None, max_usd: float | None
) -> tuple[int, str]:
    """How long the context probe is, and why: `explicit` when given; else the smallest window
    every endpoint advertises (OpenRouter's context_length, recorded as a label by `vvtui
    openrouter endpoints --write-config`) when all do, else the default; never more than
    `max_usd` buys on the priciest endpoint's input price."""
    if explicit is not None:
        return max(1, explicit), "--context-tokens"
    tokens, why = 6000, "default"
    advertised = [_int_label(e, "context_length") for e in endpoints]
    if advertised and all(a is not None for a in advertised):
        smallest = min(a for a in advertised if a is not None)
        tokens = min(int(smallest * ADVERTISED_SHARE), ADVERTISED_CEILING)
        why = "advertised context_length"
    budget = DEFAULT_CONTEXT_MAX_USD if max_usd is None else max_usd
    prices = [e.price.input for e in endpoints if e.price is not None and e.price.input > 0]
    if prices and budget > 0:
        affordable = int(budget / max(prices) * 1_000_000)
        if affordable < tokens:
            tokens, why = max(1, affordable), f"capped by ${budget:g} per endpoint"
    return tokens, why


def _int_label(endpoint: EndpointConfig, key: str) -> int | None:
    try:
        return int(endpoint.labels[key])
    except (KeyError, ValueError):
        return None
