"""What an endpoint supports, found by sending it tiny requests.

Features: `stream_usage` (a usage report in the stream), `logprobs` (and the most alternatives
per position that came back, `max_top_logprobs`), `tools` (a forced tool call), `json_object`
and `json_schema` (response formats honoured, not just accepted), `seed` (two sampled runs with
one seed agree).

Each feature ends `supported`, `unsupported`, `ignored` or `error`:

- `unsupported`: the server refused it, with a 4xx or an error body naming the feature (or the
  user declared it missing in the config). Only this is a declared-missing feature: runs do not
  send the probes needing it and scoring leaves them out (see `probe_features` and
  `Capabilities.missing`), and the endpoint shows a conformance gap against a reference that has
  the feature (vvtui.scoring.verdict_gates).
- `ignored`: the request was accepted but the answer did not show the feature (not JSON, no
  forced tool call, no logprobs, no usage, seeded runs differ). That may be a host that drops the
  parameter or a model too damaged to follow it; either way the answers are measured, and a
  wrong one counts as damage. A wrong answer is never a missing feature.
- `error`: the check itself failed (the endpoint is down, timed out, answered garbage): it says
  nothing about the feature.

The records (`Support`, `Capabilities`) are plain data; httpx is only imported by the check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vvtui.config import EndpointConfig
from vvtui.features import probe_features
from vvtui.model import ExpectedToolCall, Probe, Result

if TYPE_CHECKING:
    import httpx

    from vvtui.clients.retry import RetryPolicy

SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
IGNORED = "ignored"
ERROR = "error"
STATUSES = (SUPPORTED, UNSUPPORTED, IGNORED, ERROR)


# The alternatives asked for when probing logprobs, most first (OpenAI's maximum is 20; vLLM
# rejects more than its --max-logprobs, 20 by default).
TOP_LOGPROBS_LADDER = (20, 5, 1)


@dataclass(slots=True)
class Support:
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == SUPPORTED

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Support:
        status = str(data.get("status", ERROR))
        return cls(status if status in STATUSES else ERROR, str(data.get("detail", "")))


@dataclass(slots=True)
class Capabilities:
    endpoint: str
    features: dict[str, Support] = field(default_factory=dict)
    # The most alternatives per position any logprobs check returned (None: no logprobs).
    max_top_logprobs: int | None = None

    def status(self, feature: str) -> str | None:
        support = self.features.get(feature)
        return None if support is None else support.status

    def missing(self) -> set[str]:
        """Features the endpoint refused (or the user declared missing): never ones it accepted
        and answered badly, which are measured like any other answer."""
        return {name for name, s in self.features.items() if s.status == UNSUPPORTED}

    def errors(self) -> set[str]:
        return {name for name, s in self.features.items() if s.status == ERROR}

    def allows(self, probe: Probe) -> bool:
        """False when the probe needs a feature this endpoint declared missing."""
        return not (probe_features(probe) & self.missing())

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "features": {name: s.to_dict() for name, s in self.features.items()},
            "max_top_logprobs": self.max_top_logprobs,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Capabilities:
        return cls(
            endpoint=str(data["endpoint"]),
            features={
                str(k): Support.from_dict(v) for k, v in (data.get("features") or {}).items()
            },
            max_top_logprobs=data.get("max_top_logprobs"),
        )


# --------------------------------------------------------------------------------------------
# The checks

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


FORCED_TOOL_QUESTION = "What is the weather in Paris right now? Use the tool."


def forced_tool_fields() -> dict[str, Any]:
    """Probe fields of a forced `get_weather` call (shared with the conformance checks)."""
    return {
        "kind": "tool_call",
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "answer_tool_calls": [ExpectedToolCall("get_weather", {"city": "Paris"})],
        "max_tokens": 64,
    }


def _ask(probe_id: str, text: str, **kw: Any) -> Probe:
    values: dict[str, Any] = {"max_tokens": 24, "suite": "capabilities"}
    values.update(kw)
    messages = [{"role": "user", "content": text}]
    return Probe(id=f"capability-{probe_id}", messages=messages, **values)


def _failure(result: Result) -> Support | None:
    if result.error is None:
        return None
    if result.error.kind == "unsupported":
        return Support(UNSUPPORTED, result.error.message)
    return Support(ERROR, f"{result.error.kind}: {result.error.message}")


class _Checker:
    def __init__(
        self,
        endpoint: EndpointConfig,
        http: httpx.AsyncClient,
        retry: RetryPolicy | None,
        concurrency: int,
    ) -> None:
        self.endpoint = endpoint
        self.http = http
        self.retry = retry
        self.gate = asyncio.Semaphore(max(1, concurrency))

    async def run(self, probe: Probe, *, logprobs: bool = False) -> Result:
        from contextlib import aclosing

        from vvtui.clients import make_client
        from vvtui.clients.accumulate import Accumulator

        # Only the logprobs check asks for logprobs: a server that rejects them (DeepSeek
        # reasoner) must not fail every other check too.
        ep = dataclasses.replace(
            self.endpoint, logprobs=logprobs, max_retries=min(self.endpoint.max_retries, 1)
        )
        acc = Accumulator(ep, probe)
        async with self.gate:
            client = make_client(ep, self.http, retry=self.retry)
            async with aclosing(client.stream(probe)) as events:
                async for event in events:
                    acc.feed(event)
        return acc.result()

    async def stream_usage(self) -> Support:
        result = await self.run(_ask("usage", "Reply with the single word: ok", max_tokens=8))
        failed = _failure(result)
        if failed is not None:
            return failed
        if result.usage is not None and result.output_tokens is not None:
            return Support(SUPPORTED, f"{result.input_tokens} in / {result.output_tokens} out")
        return Support(IGNORED, "accepted, but no usage report came in the stream")

    async def logprobs(self) -> tuple[Support, int | None]:
        last: Support | None = None
        for top in TOP_LOGPROBS_LADDER:
            probe = _ask("logprobs", "Count from 1 to 5.", top_logprobs=top, kind="logprob")
            result = await self.run(probe, logprobs=True)
            failed = _failure(result)
            if failed is not None:
                if failed.status == UNSUPPORTED:
                    return failed, None
                last = failed
                # A 4xx may only mean "fewer alternatives, please": try the next rung.
                if result.error is not None and result.error.status in (400, 422):
                    continue
                return failed, None
            tokens = result.tokens
            if tokens is None or tokens.logprob is None:
                return Support(IGNORED, "accepted, but no logprobs came back"), None
            widest = max((len(row) for row in tokens.top or []), default=0)
            return Support(SUPPORTED, f"asked {top}, got up to {widest} alternatives"), widest
        return last or Support(ERROR, "no logprobs check ran"), None

    async def tools(self) -> Support:
        probe = _ask("tools", FORCED_TOOL_QUESTION, **forced_tool_fields())
        result = await self.run(probe)
        failed = _failure(result)
        if failed is not None:
            return failed
        names = [c.name for c in result.tool_calls]
        if "get_weather" not in names:
            return Support(IGNORED, "accepted, but answered without calling the forced tool")
        call = result.tool_calls[names.index("get_weather")]
        try:
            json.loads(call.arguments or "{}")
        except ValueError:
            return Support(SUPPORTED, "called the tool, but its arguments are not JSON")
        return Support(SUPPORTED, "forced tool call honoured")

    async def json_object(self) -> Support:
        probe = _ask(
            "json-object",
            'Return a JSON object with one key "ok" set to true. JSON only.',
            kind="json",
            response_format={"type": "json_object"},
            answer='{"ok": true}',
            max_tokens=32,
        )
        return self._json_verdict(await self.run(probe), schema=None)

    async def json_schema(self) -> Support:
        fmt = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": _SCHEMA},
        }
        probe = _ask(
            "json-schema",
            'Answer in JSON: {"answer": "<the capital of France>"}.',
            kind="json",
            response_format=fmt,
            answer='{"answer": "Paris"}',
            max_tokens=32,
        )
        return self._json_verdict(await self.run(probe), schema=_SCHEMA)

    def _json_verdict(self, result: Result, schema: dict[str, Any] | None) -> Support:
        failed = _failure(result)
        if failed is not None:
            return failed
        try:
            value = json.loads(result.text)
        except ValueError:
            return Support(IGNORED, "accepted, but the answer is not JSON")
        if not isinstance(value, dict):
            return Support(IGNORED, "accepted, but the answer is not a JSON object")
        if schema is not None:
            import jsonschema

            try:
                jsonschema.validate(value, schema)
            except jsonschema.ValidationError as exc:
                return Support(
                    IGNORED, f"accepted, but the answer breaks the schema: {exc.message}"
                )
        return Support(SUPPORTED)

    async def seed(self) -> Support:
        def sampled() -> Probe:
            return _ask(
                "seed",
                "Invent a new nonsense word and a short sentence using it.",
                kind="sampled",
                temperature=1.0,
                seed=424242,
                max_tokens=16,
            )

        first, second = await asyncio.gather(self.run(sampled()), self.run(sampled()))
        for result in (first, second):
            failed = _failure(result)
            if failed is not None:
                return failed
        if first.text == second.text:
            return Support(SUPPORTED, "two sampled runs with one seed agree")
        return Support(IGNORED, "accepted, but two sampled runs with one seed differ")


async def check_endpoint(
    endpoint: EndpointConfig,
    http: httpx.AsyncClient,
    *,
    retry: RetryPolicy | None = None,
    concurrency: int | None = None,
) -> Capabilities:
    """Run every check against one endpoint. Never raises for endpoint trouble."""
    checker = _Checker(endpoint, http, retry, concurrency or min(endpoint.max_concurrency, 3))

    async def guarded(coro: Any) -> Any:
        try:
            return await coro
        except Exception as exc:  # a bug in a check must not hide the other results
            return Support(ERROR, f"internal: {type(exc).__name__}: {exc}")

    usage, logprobs, tools, json_object, json_schema, seed = await asyncio.gather(
        guarded(checker.stream_usage()),
        guarded(checker.logprobs()),
        guarded(checker.tools()),
        guarded(checker.json_object()),
        guarded(checker.json_schema()),
        guarded(checker.seed()),
    )
    max_top = None
    if isinstance(logprobs, tuple):
        logprobs, max_top = logprobs
    return Capabilities(
        endpoint=endpoint.name,
        features={
            "stream_usage": usage,
            "logprobs": logprobs,
            "tools": tools,
            "json_object": json_object,
            "json_schema": json_schema,
            "seed": seed,
        },
        max_top_logprobs=max_top,
    )


async def check_endpoints(
    endpoints: list[EndpointConfig],
    http: httpx.AsyncClient,
    *,
    retry: RetryPolicy | None = None,
) -> list[Capabilities]:
    """All endpoints at once, results in the order given."""
    return list(await asyncio.gather(*(check_endpoint(e, http, retry=retry) for e in endpoints)))


# --------------------------------------------------------------------------------------------
# Remembering what `vvtui endpoints check` found, so runs can use it

# A check older than this is not trusted: providers add and drop features.
CACHE_TTL_S = 7 * 24 * 3600
# Entries written under another meaning of the statuses are not trusted either: before version 2
# an answer that was accepted but wrong (not JSON, say) was recorded `unsupported`, and runs then
# left out exactly the probes that showed the damage.
CACHE_VERSION = 2


def default_cache_path() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("vvtui", appauthor=False) / "capabilities.json"


def endpoint_identity(endpoint: EndpointConfig) -> str:
    """What a check was about: the same name on another URL, model or routing is another
    endpoint."""
    routing = json.dumps(endpoint.extra_body, sort_keys=True, default=str)
    return f"{endpoint.name}|{endpoint.base_url}|{endpoint.model}|{routing}"


def save_cached(
    endpoints: list[EndpointConfig],
    results: list[Capabilities],
    path: Path | None = None,
    now: float | None = None,
) -> Path:
    """Merge `results` into the capability cache (atomically) and return its path."""
    stamp = time.time() if now is None else now
    by_name = {e.name: e for e in endpoints}
    entries = {
        endpoint_identity(endpoint): {
            "checked_at": stamp,
            "version": CACHE_VERSION,
            **caps.to_dict(),
        }
        for caps in results
        if (endpoint := by_name.get(caps.endpoint)) is not None
    }
    return merge_cache(path or default_cache_path(), entries, indent=1)


def merge_cache(path: Path, entries: dict[str, Any], *, indent: int | None = None) -> Path:
    """Set `entries` in the JSON cache at `path`, keeping every other key; written atomically
    (the capability and conformance caches both work this way)."""
    from vvtui.storage import write_atomic

    data = read_cache(path)
    data.update(entries)
    write_atomic(path, json.dumps(data, indent=indent, sort_keys=True) + "\n")
    return path


def load_cached(
    endpoints: list[EndpointConfig],
    path: Path | None = None,
    now: float | None = None,
    ttl_s: float = CACHE_TTL_S,
) -> dict[str, Capabilities]:
    """Fresh cached checks of `endpoints`, by endpoint name (missing or stale ones left out)."""
    data = read_cache(path or default_cache_path())
    stamp = time.time() if now is None else now
    found: dict[str, Capabilities] = {}
    for endpoint in endpoints:
        entry = data.get(endpoint_identity(endpoint))
        if (
            not isinstance(entry, dict)
            or entry.get("version") != CACHE_VERSION
            or not is_fresh(entry, stamp, ttl_s)
        ):
            continue
        try:
            found[endpoint.name] = Capabilities.from_dict(entry)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return found


def is_fresh(entry: Any, now: float, ttl_s: float) -> bool:
    """A cache entry checked at most `ttl_s` ago (an entry from the future is not trusted)."""
    checked = entry.get("checked_at") if isinstance(entry, dict) else None
    return isinstance(checked, int | float) and 0 <= now - checked <= ttl_s


def read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache or a damaged one: as if nothing had been checked
    return data if isinstance(data, dict) else {}


def with_config_declarations(
    endpoints: list[EndpointConfig], found: dict[str, Capabilities]
) -> dict[str, Capabilities]:
    """`found` plus what the config declares missing (`unsupported = [...]`), which wins over a
    check: the user knows what the deployment lacks."""
    merged = dict(found)
    for endpoint in endpoints:
        if not endpoint.unsupported:
            continue
        old = merged.get(endpoint.name)
        caps = Capabilities(
            endpoint.name,
            dict(old.features) if old is not None else {},
            old.max_top_logprobs if old is not None else None,
        )
        for feature in endpoint.unsupported:
            caps.features[feature] = Support(UNSUPPORTED, "declared in the config")
        merged[endpoint.name] = caps
    return merged


def apply_capabilities(
    endpoints: list[EndpointConfig], found: dict[str, Capabilities]
) -> list[str]:
    """Adjust endpoints to the features they refused or were declared to lack, and say so, one
    note per endpoint.

    An endpoint without logprobs is no longer asked for them (a server that rejects the field
    would fail every request); the missing features are recorded as a label so snapshots and
    reports show why some probes were not measured for it.
    """
    notes = []
    for endpoint in endpoints:
        caps = found.get(endpoint.name)
        if caps is None:
            continue
        missing = sorted(caps.missing())
        if not missing:
            continue
        if "logprobs" in missing:
            endpoint.logprobs = False
        endpoint.labels["lacks"] = ",".join(missing)
        notes.append(
            f"{endpoint.name}: without {', '.join(missing)} (refused in `vvtui endpoints check`, "
            "or declared in the config); probes needing them are not sent, and show as a "
            "conformance gap"
        )
    return notes
