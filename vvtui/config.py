"""The endpoints config: TOML in, validated dataclasses out.

Strict on purpose: an unknown key is an error that names the file, the line and a close match,
because a mistyped `refrence = true` silently ignored would make every score wrong.
Keys never live in the file: `api_key_env` names an environment variable that is read only at
request time (see vvtui.redact.read_secret).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vvtui.errors import ConfigError, located, suggest, suggest_or_list, type_name
from vvtui.model import EndpointInfo, Price
from vvtui.redact import REDACTED, is_secret_header
from vvtui.reference import reference_of
from vvtui.toml_reader import Locator, parse_toml

CONFIG_ENV = "VVTUI_CONFIG"
PROTOCOLS = ("openai", "anthropic")

_ENDPOINT_KEYS = {
    "name": "a short unique label, e.g. 'together-fp8'",
    "base_url": "the API root, e.g. 'https://openrouter.ai/api/v1'",
    "model": "the model id the endpoint expects",
    "api_key_env": "the NAME of the environment variable holding the key",
    "protocol": "'openai' (default) or 'anthropic'",
    "reference": "true on the endpoint everything is compared against",
    "price": "{input = USD per Mtok, output = USD per Mtok}",
    "headers": "extra HTTP headers; values may use ${ENV_VAR}",
    "extra_body": "fields merged into every request body (e.g. OpenRouter 'provider')",
    "max_concurrency": "requests in flight to this endpoint at once",
    "timeout_s": "seconds to wait for response headers",
    "stall_timeout_s": "seconds without a byte mid-stream before the stream counts as stalled",
    "request_timeout_s": "seconds one answer may take from request to last byte",
    "max_retries": "retries for 408/409/429/5xx before any token arrived",
    "down_after": "consecutive transport failures of one kind before it counts as down (0: never)",
    "down_retry_s": "seconds an endpoint stays down before one trial request may bring it back",
    "max_output_bytes": "cap on one answer's size",
    "logprobs": "ask for logprobs (false for servers that reject them)",
    "simulated": "true for vvtui's own simulated endpoints",
    "unsupported": 'features the endpoint lacks, e.g. ["json_schema"]: probes needing them are '
    "not sent",
    "labels": "free-form labels shown in the UI",
}
_PRICE_KEYS = ("input", "output")
_RUN_KEYS = (
    "suites",
    "seed",
    "reference_repeats",
    "max_concurrency",
    "export_dir",
    "until_decided",
)
_UI_KEYS = ("theme",)
_TOP_KEYS = ("endpoint", "run", "ui", "keymap")


@dataclass(slots=True)
class EndpointConfig:
    name: str
    base_url: str
    model: str
    api_key_env: str | None = None
    protocol: str = "openai"
    reference: bool = False
    price: Price | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra_body: dict[str, Any] = field(default_factory=dict)
    max_concurrency: int = 4
    timeout_s: float = 60.0
    stall_timeout_s: float = 30.0
    # The bound on one whole answer: keep-alive comments reset the stall timer, so without it a
    # server sending only those would hold a request (and the run) forever.
    request_timeout_s: float = 600.0
    max_retries: int = 2
    # The circuit breaker (vvtui.runner.breaker): a dead host must not cost a timeout per probe.
    down_after: int = 3
    down_retry_s: float = 30.0
    max_output_bytes: int = 1_000_000
    logprobs: bool = True
    simulated: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    # Features the user declares this endpoint lacks (vvtui.features.FEATURES): like a refusal
    # found by `vvtui endpoints check`, its probes needing them are not sent.
    unsupported: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # Header values may hold credentials; a repr ends up in logs and tracebacks.
        headers = {k: REDACTED for k in self.headers}
        return (
            f"EndpointConfig(name={self.name!r}, base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r}, protocol={self.protocol!r}, "
            f"reference={self.reference!r}, headers={headers!r})"
        )

    def info(self) -> EndpointInfo:
        """The public record of this endpoint for snapshots: no key, no header values."""
        return EndpointInfo(
            name=self.name,
            model=self.model,
            base_url=self.base_url,
            protocol=self.protocol,
            reference=self.reference,
            price=self.price,
            simulated=self.simulated,
            api_key_env=self.api_key_env,
            header_names=sorted(self.headers),
            extra_body=self.extra_body,
            max_concurrency=self.max_concurrency,
            timeout_s=self.timeout_s,
            labels=dict(self.labels),
        )


@dataclass(slots=True)
class RunDefaults:
    suites: list[str] = field(default_factory=lambda: ["quick"])
    seed: int | None = None
    reference_repeats: int = 1
    max_concurrency: int = 16
    export_dir: str | None = None
    # Stop sending an endpoint probes once its verdict is decided (--until-decided).
    until_decided: bool = False


@dataclass(slots=True)
class Config:
    endpoints: list[EndpointConfig]
    path: Path | None = None
    run: RunDefaults = field(default_factory=RunDefaults)
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)

    @property
    def reference(self) -> EndpointConfig:
        return reference_of(self.endpoints)

    def endpoint(self, name: str) -> EndpointConfig:
        for e in self.endpoints:
            if e.name == name:
                return e
        raise ConfigError(
            f"no endpoint named {name!r}",
            hint=suggest_or_list(name, [e.name for e in self.endpoints]),
        )


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("vvtui", appauthor=False) / "config.toml"


def resolve_config_path(cli_path: str | os.PathLike[str] | None) -> Path:
    """`--config` wins, then $VVTUI_CONFIG, then the platform's user config dir."""
    if cli_path:
        return Path(cli_path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return default_config_path()


# --------------------------------------------------------------------------------------------
# Loading


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file. Raises ConfigError with file:line on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no config file here", hint="create one with `vvtui config init`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path | None = None) -> Config:
    data = parse_toml(text, path, ConfigError)
    loc = Locator(text)

    def fail(
        header: str | None, index: int, key: str | None, message: str, hint: str | None = None
    ):
        raise ConfigError(located(path, loc.line(header, index, key), message), hint=hint)

    for key in data:
        if key not in _TOP_KEYS:
            fail(None, 0, key, f"unknown top-level key {key!r}", suggest(key, _TOP_KEYS))

    raw_endpoints = data.get("endpoint", [])
    if not isinstance(raw_endpoints, list) or not raw_endpoints:
        fail(
            None,
            0,
            None,
            "no endpoints: add at least one [[endpoint]] table",
            "see `vvtui config init` for an example",
        )
    endpoints: list[EndpointConfig] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_endpoints):
        endpoints.append(_parse_endpoint(raw, i, fail))
        name = endpoints[-1].name
        if name in seen:
            fail("endpoint", i, "name", f"duplicate endpoint name {name!r}")
        seen.add(name)

    refs = [e for e in endpoints if e.reference]
    if len(refs) > 1:
        idx = [i for i, e in enumerate(endpoints) if e.reference][1]
        fail(
            "endpoint",
            idx,
            "reference",
            f"more than one endpoint has reference = true ({', '.join(e.name for e in refs)})",
            "mark exactly one",
        )
    if not refs:
        endpoints[0].reference = True

    def section(name: str, known: Sequence[str]) -> dict[str, Any]:
        """The `[name]` table (empty when absent), its keys all known."""
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            fail(None, 0, name, f"[{name}] must be a table")
        for key in raw:
            if key not in known:
                fail(name, 0, key, f"unknown key {key!r} in [{name}]", suggest(key, known))
        return raw

    run = RunDefaults()
    raw_run = section("run", _RUN_KEYS)
    if "suites" in raw_run:
        suites = raw_run["suites"]
        if isinstance(suites, str):
            suites = [suites]
        if not isinstance(suites, list) or not all(isinstance(s, str) for s in suites):
            fail("run", 0, "suites", "run.suites must be a list of suite names or paths")
        run.suites = list(suites)
    for key, typ in (("seed", int), ("reference_repeats", int), ("max_concurrency", int)):
        if key in raw_run:
            value = raw_run[key]
            if not isinstance(value, typ) or isinstance(value, bool) or value < 0:
                fail(
                    "run",
                    0,
                    key,
                    f"run.{key} must be a non-negative integer, not {type_name(value)}",
                )
            setattr(run, key, value)
    if "export_dir" in raw_run:
        if not isinstance(raw_run["export_dir"], str):
            fail("run", 0, "export_dir", "run.export_dir must be a string")
        run.export_dir = raw_run["export_dir"]
    if "until_decided" in raw_run:
        if not isinstance(raw_run["until_decided"], bool):
            fail("run", 0, "until_decided", "run.until_decided must be true or false")
        run.until_decided = raw_run["until_decided"]

    theme = None
    raw_ui = section("ui", _UI_KEYS)
    if "theme" in raw_ui:
        if not isinstance(raw_ui["theme"], str):
            fail("ui", 0, "theme", "ui.theme must be a string")
        theme = raw_ui["theme"]

    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()
    ):
        fail("keymap", 0, None, '[keymap] maps binding ids to keys, e.g. rerun = "ctrl+r"')

    return Config(endpoints=endpoints, path=path, run=run, theme=theme, keymap=dict(keymap))


def _parse_endpoint(raw: Any, i: int, fail: Any) -> EndpointConfig:
    if not isinstance(raw, dict):
        fail("endpoint", i, None, "each [[endpoint]] must be a table")
    for key in raw:
        if key not in _ENDPOINT_KEYS:
            fail(
                "endpoint",
                i,
                key,
                f"unknown key {key!r} in endpoint #{i + 1}",
                suggest(key, _ENDPOINT_KEYS),
            )
    label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{i + 1}"
    for key in ("name", "base_url", "model"):
        if key not in raw:
            fail(
                "endpoint", i, None, f"endpoint {label} is missing {key!r} ({_ENDPOINT_KEYS[key]})"
            )

    def want(key: str, types: tuple[type, ...], what: str) -> Any:
        value = raw[key]
        if isinstance(value, bool) and bool not in types:
            fail("endpoint", i, key, f"endpoint {label}: {key} must be {what}, not true/false")
        if not isinstance(value, types):
            fail(
                "endpoint",
                i,
                key,
                f"endpoint {label}: {key} must be {what}, not {type_name(value)}",
            )
        return value

    ep = EndpointConfig(
        name=want("name", (str,), "a string"),
        base_url=want("base_url", (str,), "a string"),
        model=want("model", (str,), "a string"),
    )
    if not ep.name.strip():
        fail("endpoint", i, "name", "endpoint name must not be empty")
    if not re.match(r"^https?://", ep.base_url):
        fail(
            "endpoint",
            i,
            "base_url",
            f"endpoint {label}: base_url must start with http:// or https://",
        )
    if _url_credentials(ep.base_url):
        fail(
            "endpoint",
            i,
            "base_url",
            f"endpoint {label}: base_url holds a credential ({_url_credentials(ep.base_url)}); "
            "base URLs are written to snapshots and reports",
            "put the key in an environment variable named by api_key_env",
        )
    ep.base_url = ep.base_url.rstrip("/")
    if "api_key_env" in raw:
        env = want("api_key_env", (str,), "a string")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", env):
            fail(
                "endpoint",
                i,
                "api_key_env",
                f"endpoint {label}: api_key_env names an environment variable "
                "(like OPENROUTER_API_KEY), not the key itself",
            )
        ep.api_key_env = env
    if "protocol" in raw:
        proto = want("protocol", (str,), "a string")
        if proto not in PROTOCOLS:
            fail(
                "endpoint",
                i,
                "protocol",
                f"endpoint {label}: unknown protocol {proto!r}",
                suggest_or_list(proto, PROTOCOLS),
            )
        ep.protocol = proto
    if "reference" in raw:
        ep.reference = want("reference", (bool,), "true or false")
    if "price" in raw:
        price = want("price", (dict,), "a table {input = ..., output = ...}")
        for key in price:
            if key not in _PRICE_KEYS:
                fail(
                    "endpoint",
                    i,
                    key,
                    f"endpoint {label}: unknown price key {key!r}",
                    suggest(key, _PRICE_KEYS),
                )
        for key in _PRICE_KEYS:
            value = price.get(key)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                fail(
                    "endpoint",
                    i,
                    "price",
                    f"endpoint {label}: price.{key} must be a non-negative number "
                    "(USD per million tokens)",
                )
        ep.price = Price(float(price["input"]), float(price["output"]), "config")
    if "headers" in raw:
        headers = want("headers", (dict,), "a table of strings")
        for key, value in headers.items():
            if not isinstance(value, str):
                fail("endpoint", i, "headers", f"endpoint {label}: header {key!r} must be a string")
            if is_secret_header(key) and "${" not in value:
                fail(
                    "endpoint",
                    i,
                    "headers",
                    f"endpoint {label}: header {key!r} holds a credential in the file",
                    'write it as "${ENV_VAR}" so the value comes from the environment',
                )
        ep.headers = dict(headers)
    if "extra_body" in raw:
        ep.extra_body = dict(want("extra_body", (dict,), "a table"))
        secret = _secret_field(ep.extra_body)
        if secret:
            fail(
                "endpoint",
                i,
                "extra_body",
                f"endpoint {label}: extra_body.{secret} looks like a credential; extra_body is "
                "written to snapshots and reports",
                'send keys with api_key_env, or headers = { Name = "${ENV_VAR}" }',
            )
    for key, minimum in (
        ("max_concurrency", 1),
        ("max_retries", 0),
        ("max_output_bytes", 1),
        ("down_after", 0),
    ):
        if key in raw:
            value = want(key, (int,), "an integer")
            if value < minimum:
                fail("endpoint", i, key, f"endpoint {label}: {key} must be at least {minimum}")
            setattr(ep, key, value)
    for key in ("timeout_s", "stall_timeout_s", "request_timeout_s", "down_retry_s"):
        if key in raw:
            value = want(key, (int, float), "a number of seconds")
            # nan and inf parse as TOML floats; neither bounds a wait.
            if not math.isfinite(value) or value <= 0:
                fail(
                    "endpoint",
                    i,
                    key,
                    f"endpoint {label}: {key} must be a positive, finite number of seconds",
                )
            setattr(ep, key, float(value))
    for key in ("logprobs", "simulated"):
        if key in raw:
            setattr(ep, key, want(key, (bool,), "true or false"))
    if "labels" in raw:
        labels = want("labels", (dict,), "a table of strings")
        ep.labels = {str(k): str(v) for k, v in labels.items()}
    if "unsupported" in raw:
        from vvtui.features import FEATURES

        declared = want("unsupported", (list,), 'a list of feature names, e.g. ["json_schema"]')
        for name in declared:
            if name not in FEATURES:
                fail(
                    "endpoint",
                    i,
                    "unsupported",
                    f"endpoint {label}: unknown feature {name!r} in unsupported",
                    suggest(str(name), FEATURES) or f"one of {', '.join(FEATURES)}",
                )
        ep.unsupported = [str(name) for name in declared]
    return ep


# Body fields that carry credentials (exact names: "max_tokens" is not one).
_SECRET_FIELDS = re.compile(
    r"^(api[-_]?key|apikey|key|access[-_]?token|token|secret|client[-_]?secret|password|"
    r"authorization|auth)$",
    re.IGNORECASE,
)


def _secret_field(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The dotted path of the first credential-named field in a nested table, or None."""
    if depth > 20:
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _SECRET_FIELDS.match(str(key)) and isinstance(item, str) and item:
                return here
            found = _secret_field(item, here, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _secret_field(item, path, depth + 1)
            if found:
                return found
    return None


def _url_credentials(url: str) -> str | None:
    """What in a URL looks like a credential (user:password@, ?key=...), or None."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" in parts.netloc:
        return "user:password@ in the host"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if is_secret_header(name) or name.lower() in ("key", "auth", "sig", "signature"):
            return f"query parameter {name!r}"
    return None


def missing_keys(config: Config) -> list[tuple[str, str]]:
    """(endpoint, env var) pairs whose key is not set in the environment. Never reads values out."""
    missing = []

    def unset(var: str) -> bool:  # as read_secret sees it: surrounding whitespace is no key
        return not os.environ.get(var, "").strip()

    for e in config.endpoints:
        if e.api_key_env and unset(e.api_key_env):
            missing.append((e.name, e.api_key_env))
        for value in e.headers.values():
            for var in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value):
                if unset(var) and (e.name, var) not in missing:
                    missing.append((e.name, var))
    return missing


EXAMPLE_CONFIG = """\
# vvtui endpoints config. Keys never go in this file: `api_key_env` names the environment
# variable that holds each key, read only when a request is sent.
# Check it with `vvtui config check`.

[run]
suites = ["quick"]          # shipped suite names or paths to your own probe folders/files
reference_repeats = 1       # extra reference passes that measure its own noise floor
# seed = 1234               # template seed; leave out for a fresh draw per run
# until_decided = true      # stop sending an endpoint probes once its verdict is certain

# The endpoint everything is compared against (reference = true on exactly one).
[[endpoint]]
name = "first-party"
base_url = "https://api.moonshot.ai/v1"
model = "kimi-k2-0905-preview"
api_key_env = "MOONSHOT_API_KEY"
reference = true
price = { input = 0.60, output = 2.50 }   # USD per million tokens

# A provider behind OpenRouter, pinned so the router cannot fall back to another host.
[[endpoint]]
name = "or-groq"
base_url = "https://openrouter.ai/api/v1"
model = "moonshotai/kimi-k2-0905"
api_key_env = "OPENROUTER_API_KEY"
extra_body = { provider = { order = ["groq"], allow_fallbacks = false, require_parameters = true } }
max_concurrency = 4
timeout_s = 60

# A local server (llama.cpp, vLLM, Ollama...). Local servers usually need no key.
# [[endpoint]]
# name = "local-q4"
# base_url = "http://127.0.0.1:8080/v1"
# model = "local"
# extra_body = { repeat_penalty = 1.0 }
"""
