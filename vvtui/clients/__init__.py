"""Wire-protocol clients: a request in, a stream of typed events out (vvtui.clients.events).

The runner's whole interface:

    http = new_http_client(max_connections=...)
    client = make_client(endpoint, http)
    acc = Accumulator(endpoint, probe, sample=s, count_tokens=...)
    async with contextlib.aclosing(client.stream(probe, sample=s)) as events:
        async for event in events:
            acc.feed(event)          # and/or forward the event to the UI
    result = acc.result()

httpx is imported lazily so that importing this package (for the event types, the accumulator
or the capability records) stays light.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Protocol

from vvtui.clients.events import ClientEvent
from vvtui.config import EndpointConfig
from vvtui.model import Probe

if TYPE_CHECKING:
    import ssl

    import httpx

    from vvtui.clients.retry import RetryPolicy

__all__ = ["StreamingClient", "make_client", "new_http_client", "preload"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class StreamingClient(Protocol):
    """What the runner and the checks use of a client (both protocols' clients, a test's fake)."""

    endpoint: EndpointConfig

    def stream(self, probe: Probe, *, sample: int = 0) -> AsyncGenerator[ClientEvent, None]: ...


def make_client(
    endpoint: EndpointConfig, http: httpx.AsyncClient, *, retry: RetryPolicy | None = None
) -> StreamingClient:
    """The client for `endpoint.protocol` ("openai" or "anthropic")."""
    if endpoint.protocol == "anthropic":
        from vvtui.clients.anthropic import AnthropicClient

        return AnthropicClient(endpoint, http, retry=retry)
    if endpoint.protocol == "openai":
        from vvtui.clients.openai import OpenAIClient

        return OpenAIClient(endpoint, http, retry=retry)
    raise ValueError(f"endpoint {endpoint.name}: unknown protocol {endpoint.protocol!r}")


def preload(*, trust_env: bool = True) -> None:
    """Import what the first request would import, and build the shared TLS context, now.

    For a process that waits for its run before it starts (the TUI's runner child): done here,
    the work is off the run's CPU and the first request is not delayed by ~0.1 s of imports.
    httpx defers httpcore to the first transport, httpcore asks anyio for its backend at the
    first lock, and anyio imports that backend on first use; each would otherwise land inside
    the first requests' timings."""
    import importlib

    import httpx  # noqa: F401

    import vvtui.clients.anthropic
    import vvtui.clients.openai  # noqa: F401

    _known_missing("sniffio")
    for name in ("httpcore", "anyio._backends._asyncio"):
        # An optimisation only: a layout that differs in another httpx release costs time later,
        # never the run.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _ssl_context(trust_env)


def _known_missing(name: str) -> None:
    """Mark an optional module that is not installed as missing, once for the process.

    httpcore runs `import sniffio` inside every lock, event and shield it sets up (several per
    request) and falls back to asyncio when that fails. anyio no longer needs sniffio, so it is
    often absent, and then each of those imports searched sys.path again (~1.5% of a streaming
    runner's CPU). A None entry in sys.modules is Python's own marker for "not importable": the
    import fails at once, exactly as it would have."""
    import importlib.util

    if name not in sys.modules and importlib.util.find_spec(name) is None:
        sys.modules[name] = None  # type: ignore[assignment]


@functools.cache
def _ssl_context(trust_env: bool) -> ssl.SSLContext:
    """One TLS context per process, shared by every transport: building one costs ~50 ms."""
    import httpx

    return httpx.create_ssl_context(trust_env=trust_env)


def new_http_client(
    *,
    max_connections: int = 64,
    connect_timeout_s: float = 10.0,
    stall_timeout_s: float = 30.0,
    trust_env: bool = True,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """One shared `httpx.AsyncClient` for a run.

    HTTP/1.1 only (one stream per connection keeps per-request timing honest), a pool sized for
    the run's concurrency, a connect timeout and a per-read timeout of `stall_timeout_s` (the
    clients also enforce their endpoint's own header and stall timeouts). Environment proxies
    apply to remote hosts only: loopback endpoints (the simulator, local engines) are always
    reached directly, even when HTTP(S)_PROXY is set without a NO_PROXY for them.
    """
    import httpx

    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )
    timeout = httpx.Timeout(
        connect=connect_timeout_s, read=stall_timeout_s, write=stall_timeout_s, pool=None
    )
    _known_missing("sniffio")
    ssl_context = _ssl_context(trust_env)
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    if trust_env:
        for host in LOOPBACK_HOSTS:
            mounts[f"all://{host}"] = httpx.AsyncHTTPTransport(
                verify=ssl_context, limits=limits, http2=False
            )
    return httpx.AsyncClient(
        verify=ssl_context,
        limits=limits,
        timeout=timeout,
        http1=True,
        http2=False,
        trust_env=trust_env,
        follow_redirects=False,
        mounts=mounts or None,
        **kwargs,
    )
