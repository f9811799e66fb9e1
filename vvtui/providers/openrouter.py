"""OpenRouter's per-model endpoint listing, and checks on which upstream provider answered.

`GET /api/v1/models/{author}/{slug}/endpoints` lists every provider serving a model with its
quantization, list price, context length, supported parameters and recent uptime, latency and
throughput. That is the raw material for picking a provider: `vvtui openrouter endpoints` turns it
into a table and into a config with one pinned endpoint per provider.

The parser is deliberately liberal (fields missing, null, numbers as strings, unknown keys): the
listing is a live API that grows fields over time, and one odd entry must not hide the others.
Every string that came from the network is stripped of control characters before it can reach a
terminal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from vvtui.errors import UsageError, VvtuiError
from vvtui.model import Price
from vvtui.providers.routing import provider_key
from vvtui.redact import REDACTED, redact

OPENROUTER_API = "https://openrouter.ai/api/v1"
OPENROUTER_HOSTS = ("openrouter.ai", "www.openrouter.ai")

# Suffixes that change routing, not the model: OpenRouter accepts them on a model id at request
# time but lists endpoints only under the bare id.
ROUTING_VARIANTS = ("exacto", "nitro", "floor")

# Models OpenRouter listed when it launched :exacto (docs "Exacto Variant", October 2025). The
# endpoints API carries no exacto flag; later docs describe :exacto as a quality-first sort usable
# on any model served by several tool-capable providers. `exacto_offered` uses both rules.
EXACTO_MODELS = frozenset(
    {
        "moonshotai/kimi-k2-0905",
        "deepseek/deepseek-v3.1-terminus",
        "z-ai/glm-4.6",
        "openai/gpt-oss-120b",
        "qwen/qwen3-coder",
    }
)

SORT_KEYS = ("price", "throughput", "latency")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_MESSAGE = 200


# --------------------------------------------------------------------------------------------
# Errors


class OpenRouterError(VvtuiError):
    """OpenRouter's models API could not give an answer."""


class ModelNotFoundError(OpenRouterError):
    """OpenRouter does not know the model id (HTTP 404)."""


class AuthError(OpenRouterError):
    """OpenRouter refused the key (HTTP 401/403)."""


class UnavailableError(OpenRouterError):
    """Network failure, timeout, rate limit or server error: worth retrying later."""


class BadResponseError(OpenRouterError):
    """The answer was not the JSON we expect (an HTML page, malformed JSON, another shape)."""


# --------------------------------------------------------------------------------------------
# The endpoint record


@dataclass(slots=True, frozen=True)
class ProviderEndpoint:
    """One provider's endpoint for a model, as OpenRouter lists it. Prices in USD per Mtok."""

    provider: str  # display name, e.g. "DeepInfra"
    tag: str  # slug for `provider.order`, e.g. "deepinfra/fp4"
    name: str | None = None
    quantization: str | None = None  # int4 … bf16, "unknown", or None when not given
    price_in: float | None = None
    price_out: float | None = None
    context_length: int | None = None
    max_completion_tokens: int | None = None
    uptime: float | None = None  # percent over the last 30 minutes
    uptime_1d: float | None = None
    latency_p50: float | None = None  # time to first token; OpenRouter documents milliseconds
    throughput_p50: float | None = None  # tokens per second
    status: int | None = None  # 0 is normal; OpenRouter uses negative values for degraded states
    supported_parameters: tuple[str, ...] = field(default_factory=tuple)

    @property
    def slug(self) -> str:
        """The provider part of the tag ("deepinfra" for "deepinfra/fp4")."""
        return self.tag.split("/", 1)[0]

    @property
    def supports_logprobs(self) -> bool:
        return "logprobs" in self.supported_parameters

    @property
    def supports_top_logprobs(self) -> bool:
        return "top_logprobs" in self.supported_parameters

    @property
    def supports_tools(self) -> bool:
        return "tools" in self.supported_parameters

    @property
    def supports_response_format(self) -> bool:
        return (
            "response_format" in self.supported_parameters
            or "structured_outputs" in self.supported_parameters
        )

    @property
    def supports_structured_outputs(self) -> bool:
        """json_schema response formats (OpenRouter's `structured_outputs` parameter)."""
        return "structured_outputs" in self.supported_parameters

    @property
    def price(self) -> Price | None:
        if self.price_in is None or self.price_out is None:
            return None
        return Price(self.price_in, self.price_out, "openrouter")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["supported_parameters"] = list(self.supported_parameters)
        data["supports_logprobs"] = self.supports_logprobs
        data["supports_tools"] = self.supports_tools
        data["supports_response_format"] = self.supports_response_format
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderEndpoint:
        """Inverse of to_dict (derived booleans ignored); used for the price cache."""
        return cls(
            provider=str(data["provider"]),
            tag=str(data["tag"]),
            name=_text(data.get("name")),
            quantization=_text(data.get("quantization")),
            price_in=_number(data.get("price_in")),
            price_out=_number(data.get("price_out")),
            context_length=_integer(data.get("context_length")),
            max_completion_tokens=_integer(data.get("max_completion_tokens")),
            uptime=_number(data.get("uptime")),
            uptime_1d=_number(data.get("uptime_1d")),
            latency_p50=_number(data.get("latency_p50")),
            throughput_p50=_number(data.get("throughput_p50")),
            status=_integer(data.get("status")),
            supported_parameters=_strings(data.get("supported_parameters")),
        )


# --------------------------------------------------------------------------------------------
# Liberal field readers


def per_token_to_per_mtok(value: Any) -> float | None:
    """OpenRouter's price (a string of USD per token, e.g. "0.0000006") as USD per Mtok (0.6).

    Decimal keeps "0.0000006" from becoming 0.6000000000000001. Missing, unparsable or negative
    values (OpenRouter uses "-1" for "varies", e.g. on its auto router) give None.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return float(amount * 1_000_000)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = _CONTROL.sub("", value).strip()
    return cleaned or None


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(t for t in (_text(v) for v in value) if t)


def _p50(value: Any) -> float | None:
    return _number(value.get("p50")) if isinstance(value, dict) else None


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def parse_endpoint(raw: Any) -> ProviderEndpoint | None:
    """One entry of `data.endpoints`, or None when it names no provider at all."""
    if not isinstance(raw, dict):
        return None
    name = _text(raw.get("name"))
    provider = _text(raw.get("provider_name"))
    tag = _text(raw.get("tag"))
    if provider is None and name:
        # "Provider | author/model" is how OpenRouter names endpoints.
        provider = _text(name.split("|", 1)[0])
    if provider is None and tag:
        provider = tag
    if provider is None:
        return None
    pricing = p if isinstance(p := raw.get("pricing"), dict) else {}
    uptime = _number(raw.get("uptime_last_30m"))
    uptime_1d = _number(raw.get("uptime_last_1d"))
    return ProviderEndpoint(
        provider=provider,
        tag=tag or _slugify(provider),
        name=name,
        quantization=_text(raw.get("quantization")),
        price_in=per_token_to_per_mtok(pricing.get("prompt")),
        price_out=per_token_to_per_mtok(pricing.get("completion")),
        context_length=_integer(raw.get("context_length")),
        max_completion_tokens=_integer(raw.get("max_completion_tokens")),
        uptime=uptime if uptime is not None else uptime_1d,
        uptime_1d=uptime_1d,
        latency_p50=_p50(raw.get("latency_last_30m")),
        throughput_p50=_p50(raw.get("throughput_last_30m")),
        status=_integer(raw.get("status")),
        supported_parameters=_strings(raw.get("supported_parameters")),
    )


def parse_endpoints(payload: Any) -> list[ProviderEndpoint]:
    """The endpoints in a decoded `/endpoints` answer. Raises BadResponseError on another shape."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise BadResponseError("OpenRouter's answer has no 'data' object")
    raw = data.get("endpoints")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadResponseError("OpenRouter's answer has no 'data.endpoints' list")
    return [e for e in (parse_endpoint(item) for item in raw) if e is not None]


# --------------------------------------------------------------------------------------------
# Model ids


def split_model(model: str) -> tuple[str, str | None]:
    """'moonshotai/kimi-k2-0905:exacto' -> ('moonshotai/kimi-k2-0905', 'exacto')."""
    base, _, variant = model.strip().partition(":")
    return base, (variant or None)


def endpoints_url(base_url: str, model: str) -> str:
    base, _ = split_model(model)
    parts = base.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise UsageError(
            f"model id {model!r} is not of the form author/slug",
            hint="e.g. moonshotai/kimi-k2-0905; see https://openrouter.ai/models",
        )
    author, slug = (quote(p.strip(), safe="") for p in parts)
    return f"{base_url.rstrip('/')}/models/{author}/{slug}/endpoints"


def is_openrouter(base_url: str) -> bool:
    """True for OpenRouter's API (any path under openrouter.ai)."""
    try:
        host = (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        return False
    return host in OPENROUTER_HOSTS


def exacto_reason(model: str, endpoints: Sequence[ProviderEndpoint]) -> str | None:
    """Why `model:exacto` is worth offering, or None when it is not.

    OpenRouter's API carries no exacto flag, so: the models it listed when it launched :exacto,
    or any model with at least two tool-capable hosts for Exacto's quality-first sort to choose
    between (what later docs describe). The second rule is an assumption, and says so.
    """
    base, _ = split_model(model)
    if base.lower() in EXACTO_MODELS:
        return "OpenRouter listed this model when it launched :exacto"
    tool_hosts = sum(1 for e in endpoints if e.supports_tools)
    if tool_hosts >= 2:
        return (
            f"{tool_hosts} listed hosts support tools; OpenRouter's API does not say whether "
            ":exacto is offered, vvtui assumes so (remove this endpoint if its requests fail)"
        )
    return None


def exacto_offered(model: str, endpoints: Sequence[ProviderEndpoint]) -> bool:
    """Whether to offer `model:exacto` (see exacto_reason)."""
    return exacto_reason(model, endpoints) is not None


# --------------------------------------------------------------------------------------------
# Fetching


def _clean(text: str, api_key: str | None) -> str:
    """One short line, with the key (and anything key-shaped) removed."""
    if api_key:
        text = text.replace(api_key, REDACTED)
    text = " ".join(redact(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _looks_like_html(response: httpx.Response, text: str) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    return "html" in content_type or text.lstrip()[:1] == "<"


def _server_message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
    return text


def _status_error(status: int, message: str, model: str, api_key: str | None) -> OpenRouterError:
    detail = _clean(message, api_key) or "no message"
    if status in (401, 403):
        return AuthError(
            f"OpenRouter refused the request (HTTP {status}: {detail})",
            hint="check the API key; listing endpoints may also work with no key",
        )
    if status == 404:
        return ModelNotFoundError(
            f"OpenRouter has no model {split_model(model)[0]!r} (HTTP 404: {detail})",
            hint="check the id on https://openrouter.ai/models (author/slug)",
        )
    if status == 429:
        return UnavailableError(
            f"OpenRouter is rate-limiting requests (HTTP 429: {detail})",
            hint="wait a minute and retry",
        )
    if status >= 500:
        return UnavailableError(
            f"OpenRouter answered HTTP {status} ({detail})", hint="retry in a few minutes"
        )
    return OpenRouterError(f"OpenRouter answered HTTP {status} ({detail})")


async def fetch_endpoints(
    model: str,
    *,
    http: httpx.AsyncClient,
    base_url: str = OPENROUTER_API,
    api_key: str | None = None,
) -> list[ProviderEndpoint]:
    """Every provider endpoint OpenRouter lists for `model` (a routing suffix is ignored).

    Raises an OpenRouterError subclass with a one-line message that never holds the key.
    """
    url = endpoints_url(base_url, model)
    host = urlsplit(url).netloc
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        response = await http.get(url, headers=headers)
        text = response.text
    except httpx.TimeoutException:
        raise UnavailableError(
            f"{host} did not answer in time", hint="check the network and retry"
        ) from None
    except httpx.InvalidURL as exc:
        raise UsageError(f"invalid OpenRouter URL {url!r}: {exc}") from None
    except httpx.HTTPError as exc:
        raise UnavailableError(
            f"cannot reach {host}: {_clean(str(exc) or type(exc).__name__, api_key)}",
            hint="check the network and retry",
        ) from None

    status = response.status_code
    if status >= 400:
        if _looks_like_html(response, text):
            message = "an HTML error page"
        else:
            message = _server_message(text)
        raise _status_error(status, message, model, api_key)
    if _looks_like_html(response, text):
        raise BadResponseError(
            f"{host} answered an HTML page, not JSON (HTTP {status})",
            hint="a proxy, captive portal or wrong base URL?",
        )
    try:
        payload = json.loads(text)
    except ValueError as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f": {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise BadResponseError(f"{host} sent malformed JSON{where}") from None
    if isinstance(payload, dict) and "error" in payload and "data" not in payload:
        error = payload["error"]
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) and not isinstance(code, bool) else 502
        raise _status_error(status, _server_message(text), model, api_key)
    return parse_endpoints(payload)


# --------------------------------------------------------------------------------------------
# Choosing and comparing providers


def match_endpoints(slug: str, endpoints: Iterable[ProviderEndpoint]) -> list[ProviderEndpoint]:
    """The endpoints a `provider.order` slug (or a provider name) selects.

    An exact tag ('deepinfra/fp4') selects that endpoint; a bare provider ('deepinfra',
    'DeepInfra') selects all of that provider's endpoints.
    """
    endpoints = list(endpoints)
    wanted = slug.strip().lower()
    exact = [e for e in endpoints if e.tag.lower() == wanted]
    if exact or "/" in wanted:
        return exact
    key = provider_key(wanted)
    return [e for e in endpoints if key in (provider_key(e.tag), provider_key(e.provider))]


def _blended(e: ProviderEndpoint) -> float:
    if e.price_in is None or e.price_out is None:
        return math.inf
    return e.price_in + e.price_out


def sort_endpoints(endpoints: Iterable[ProviderEndpoint], by: str) -> list[ProviderEndpoint]:
    """Cheapest (input + output $/Mtok), fastest (throughput p50) or quickest (latency p50)
    first; endpoints missing the number go last, in their listed order."""
    items = list(endpoints)
    if by == "price":
        return sorted(items, key=_blended)
    if by == "throughput":
        return sorted(
            items, key=lambda e: math.inf if e.throughput_p50 is None else -e.throughput_p50
        )
    if by == "latency":
        return sorted(items, key=lambda e: math.inf if e.latency_p50 is None else e.latency_p50)
    raise UsageError(f"unknown sort key {by!r}", hint=f"one of {', '.join(SORT_KEYS)}")
