"""The fault matrix: two healthy endpoints and one endpoint per fault, as simulator profiles plus
endpoint settings. test_faults_e2e.py runs it in-process and checks each endpoint's results;
test_secrets.py runs it through the CLI and searches every output for keys.

Bounded for tests: timeouts of half a second, at most one retry, the simulator at 50x speed,
loopback only (a closed port for "refused", a `.invalid` host for DNS).
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vvtui.config import EndpointConfig
from vvtui.sim.profiles import Profile
from vvtui.toml_writer import dumps

SPEED = 50.0
MODEL = "vv-sim-8b"
# The probes every endpoint is asked: short text, long digits, a tool call, a logprob answer.
PROBES = (
    "quant-arith-chain",
    "quant-copy-digits",
    "tools-weather-basic",
    "logprob-capital-australia",
)
SUITE_TOML = (
    '[suite]\nname = "faults"\ndescription = "the fault matrix probes"\ninclude = ['
    + ", ".join(f'"{p.split("-")[0]}:{p}"' for p in PROBES)
    + "]\n"
)
UNSET_ENV = "VVTUI_FAULTS_UNSET_KEY"
ECHO_KEY_ENV = "VVTUI_FAULTS_ECHO_KEY"
RETRY_AFTER_MS = 150
# Every endpoint unless it says otherwise: generous for healthy ones, bounded for faulty ones.
DEFAULTS = {"timeout_s": 10.0, "stall_timeout_s": 5.0, "max_retries": 1, "max_concurrency": 4}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class FaultEndpoint:
    name: str
    fault: str | None = None  # a simulator fault spec ("none": served normally)
    base_url: str | None = None  # instead of the simulator (closed port, .invalid host)
    settings: dict[str, Any] = field(default_factory=dict)  # EndpointConfig fields
    profile: dict[str, Any] = field(default_factory=dict)  # Profile fields


MATRIX = [
    FaultEndpoint("healthy-a", settings={"reference": True}),
    FaultEndpoint("healthy-b"),
    # before any response
    FaultEndpoint("refused", base_url=f"http://127.0.0.1:{closed_port()}/v1"),
    FaultEndpoint("dns", base_url="http://vvtui-fault-test.invalid/v1"),
    FaultEndpoint("missing-key", "none", settings={"api_key_env": UNSET_ENV, "max_retries": 0}),
    FaultEndpoint("refuse", "refuse"),
    FaultEndpoint("hang-headers", "hang_headers", settings={"timeout_s": 0.5}),
    FaultEndpoint("rate-limit", "rate_limit:1", profile={"retry_after_ms": RETRY_AFTER_MS}),
    FaultEndpoint("rate-limit-exhausted", "rate_limit:9"),
    FaultEndpoint("flaky-5xx", "flaky_5xx:1"),
    FaultEndpoint("http-500", "http_500"),
    FaultEndpoint("html-error", "html_error", settings={"max_retries": 0}),
    FaultEndpoint("text-error", "text_error", settings={"max_retries": 0}),
    FaultEndpoint("error-body", "error_body"),
    FaultEndpoint("echo-auth", "echo_auth", settings={"api_key_env": ECHO_KEY_ENV}),
    # mid-stream
    # (1 s, not less: a loaded machine can pause the simulator thread before the first token.)
    FaultEndpoint("stall", "stall:1", settings={"stall_timeout_s": 1.0}),
    # Comments every 50 ms keep the stall timer quiet: only request_timeout_s ends it (and it
    # comes first, whatever the machine's load does to the comments' pace).
    FaultEndpoint(
        "keepalive-forever",
        "keepalive_forever",
        settings={"stall_timeout_s": 3.0, "request_timeout_s": 1.0},
    ),
    FaultEndpoint("midstream-error", "midstream_error:1"),
    FaultEndpoint("drop", "drop:1"),
    FaultEndpoint("no-done", "no_done"),
    FaultEndpoint("malformed-sse", "malformed_sse"),
    FaultEndpoint("invalid-utf8", "invalid_utf8"),
    FaultEndpoint("empty-choices", "empty_choices"),
    FaultEndpoint("ignore-stream", "ignore_stream"),
    FaultEndpoint("oversized", "oversized:1", settings={"max_output_bytes": 4096}),
    FaultEndpoint("wrong-model", "wrong_model"),
    FaultEndpoint("comments", "comments"),
    FaultEndpoint("u2028", "u2028"),
    FaultEndpoint("echo-stream", "echo_stream", settings={"api_key_env": ECHO_KEY_ENV}),
]

Extra = Callable[[FaultEndpoint], dict[str, Any]]


def profiles() -> list[Profile]:
    """One simulator profile per endpoint. No per-request noise: the two healthy endpoints must
    answer identically."""
    out = []
    for ep in MATRIX:
        base = Profile(ep.name, ep.name, ttft_s=0.2, tokens_per_s=80, jitter=0.0).scaled(SPEED)
        out.append(dataclasses.replace(base, fault=ep.fault, **ep.profile))
    return out


def settings(ep: FaultEndpoint, root: str, extra: Extra | None = None) -> dict[str, Any]:
    return {
        "name": ep.name,
        "base_url": ep.base_url or f"{root}/{ep.name}/v1",
        "model": MODEL,
        "simulated": True,
        **DEFAULTS,
        **ep.settings,
        **(extra(ep) if extra else {}),
    }


def endpoint_configs(root: str, extra: Extra | None = None) -> list[EndpointConfig]:
    return [EndpointConfig(**settings(ep, root, extra)) for ep in MATRIX]


def config_toml(root: str, extra: Extra | None = None) -> str:
    """The same endpoints as a config file for `vvtui run --config`."""
    return dumps({"endpoint": [settings(ep, root, extra) for ep in MATRIX]})
