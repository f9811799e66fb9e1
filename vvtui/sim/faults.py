"""Fault specs and the faults that strike before a response starts.

A spec is `name` or `name:n` (see vvtui.sim.server's docstring for what each one sends). It comes
from a profile's `fault`, or per request from the `x-vvtui-sim-fault` header (`none` switches a
profile's fault off). The mid-stream faults live in vvtui.sim.stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from dataclasses import dataclass

from vvtui.redact import is_secret_header
from vvtui.sim.chunks import dumps, error_body
from vvtui.sim.http import ConnectionDropped, Request, Response

# name -> default n (tokens before the fault strikes, failing attempts, or megabytes).
FAULTS: dict[str, int] = {
    "refuse": 0,
    "hang_headers": 0,
    "stall": 3,
    "rate_limit": 1,
    "flaky_5xx": 2,
    "http_500": 0,
    "html_error": 0,
    "text_error": 0,
    "error_body": 0,
    "midstream_error": 3,
    "malformed_sse": 0,
    "invalid_utf8": 0,
    "empty_choices": 0,
    "no_done": 0,
    "drop": 3,
    "ignore_stream": 0,
    "oversized": 5,
    "wrong_model": 0,
    "comments": 0,
    "u2028": 0,
    "echo_auth": 0,
    "echo_stream": 0,
    "keepalive_forever": 0,
    # Hosts that tamper with the request or the bill (vvtui.sim.hosts).
    "cap_max_tokens": 100,
    "inject_system": 40,
    "ignore_temperature": 0,
    "force_greedy": 0,
    "pad_prompt_tokens": 50,
    "truncate_context": 2048,
    "drop_stop": 0,
}
FAULT_HEADER = "x-vvtui-sim-fault"
# A held-open socket (hang_headers, stall) is released after this long even if the client stays.
HOLD_LIMIT_S = 120.0
WRONG_MODEL = "vv-sim-3b-instruct"

NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    n: int

    def __str__(self) -> str:
        return f"{self.name}:{self.n}"


def parse_fault(spec: str | None) -> Fault | None:
    """`"stall:5"` -> Fault("stall", 5); None, "" and "none" -> None. ValueError if unknown."""
    if spec is None or spec.strip().lower() in ("", "none"):
        return None
    name, _, count = spec.strip().partition(":")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    try:
        n = int(count) if count else FAULTS[name]
    except ValueError:
        raise ValueError(f"fault count must be an integer: {spec!r}") from None
    if n < 0:
        raise ValueError(f"fault count must not be negative: {spec!r}")
    return Fault(name, n)


class Attempts:
    """Counts failed attempts per (profile, fault, request body), so retries eventually succeed."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], int] = {}

    def fail_now(self, profile: str, fault: Fault, body: bytes) -> bool:
        key = (profile, fault.name, hashlib.sha1(body).hexdigest())
        if len(self._seen) > 10_000:  # clients that never retry must not grow this forever
            self._seen.clear()
        count = self._seen.get(key, 0)
        if count < fault.n:
            self._seen[key] = count + 1
            return True
        self._seen.pop(key, None)  # succeed, and start over for the next identical request
        return False


async def hold_open(resp: Response, limit_s: float = HOLD_LIMIT_S) -> None:
    """Keep the socket open without sending a byte until the client leaves (or the limit)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not resp.peer_closed() and loop.time() < deadline:
        await asyncio.sleep(0.02)
    raise ConnectionDropped


async def before_response(
    fault: Fault,
    profile: str,
    retry_after_ms: int,
    req: Request,
    resp: Response,
    attempts: Attempts,
) -> bool:
    """Apply a fault that replaces the whole response. True if the request has been answered."""
    name = fault.name
    if name == "refuse":
        raise ConnectionDropped
    if name == "hang_headers":
        await hold_open(resp)
    if name == "rate_limit" and attempts.fail_now(profile, fault, req.body):
        headers = {
            "retry-after-ms": str(retry_after_ms),
            "retry-after": str(max(1, math.ceil(retry_after_ms / 1000))),
            "x-ratelimit-remaining-requests": "0",
        }
        body = error_body(
            "Rate limit reached for requests. Please try again later.",
            "requests",
            None,
            "rate_limit_exceeded",
        )
        await resp.send(429, dumps(body), headers=headers)
        return True
    if name == "flaky_5xx" and attempts.fail_now(profile, fault, req.body):
        body = error_body(
            "The server is overloaded or not ready yet.", "server_error", None, "overloaded"
        )
        await resp.send(503, dumps(body))
        return True
    if name == "http_500":
        body = error_body(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
        )
        await resp.send(500, dumps(body))
        return True
    if name == "html_error":
        await resp.send(502, NGINX_502, "text/html")
        return True
    if name == "text_error":
        await resp.send(500, "Internal Server Error", "text/plain; charset=utf-8")
        return True
    if name == "error_body":
        body = error_body(
            "This model's maximum context length is 8192 tokens. Please reduce the length of "
            "the messages.",
            "invalid_request_error",
            "messages",
            "context_length_exceeded",
        )
        await resp.send(400, dumps(body))
        return True
    if name == "echo_auth":
        body = error_body(
            f"Incorrect API key provided. You sent: {echo_headers(req)}",
            "invalid_request_error",
            None,
            "invalid_api_key",
        )
        await resp.send(401, dumps(body))
        return True
    return False


def echo_headers(req: Request) -> str:
    """The request's headers as one string, credentials and all: what a careless gateway or a
    debugging proxy sends back, and exactly what vvtui must never show or write."""
    # Credentials first, so they survive any shortening of the message on the way back.
    items = sorted(req.headers.items(), key=lambda kv: (not is_secret_header(kv[0]), kv[0]))
    return "; ".join(f"{k}: {v}" for k, v in items)
