"""A scripted fake provider on real loopback HTTP (vvtui.sim.http), for client tests.

Each request the server receives takes the next `Reply` from its script (the last one repeats),
so a test can say "503, then 429 with retry-after-ms, then a stream" and assert on what the
client did. Replies control every byte and moment: recorded SSE byte sequences with pauses,
dropped connections, stalls, bodies that never end, headers that never come.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vvtui.clients.events import ClientEvent
from vvtui.config import EndpointConfig
from vvtui.model import Probe
from vvtui.sim.http import ConnectionDropped, HttpServer, Request, Response


@dataclass
class Pause:
    """Sleep this long between two parts of a streamed body."""

    seconds: float


@dataclass
class Stream:
    """A streamed body: `parts` written one by one (bytes as they are; str as UTF-8)."""

    parts: Sequence[bytes | str | Pause]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = True
    # "end": finish the body properly; "drop": close the socket mid-body; "hang": never end.
    then: str = "end"
    delay_headers: float = 0.0


@dataclass
class Body:
    """A complete response with Content-Length."""

    status: int
    body: bytes | str
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_headers: float = 0.0


@dataclass
class Hang:
    """Read the request, then send nothing for `seconds`."""

    seconds: float = 30.0


@dataclass
class Drop:
    """Read the request, then close the connection without a response."""


@dataclass
class Dynamic:
    """Choose the reply from the request (for servers whose answer depends on the body)."""

    choose: Callable[[Request], Stream | Body | Hang | Drop]


Reply = Stream | Body | Hang | Drop | Dynamic


class FakeProvider:
    """`async with FakeProvider([...]) as fake:` then point an endpoint at `fake.base_url`."""

    def __init__(self, script: Sequence[Reply], *, echo_auth: bool = False) -> None:
        if not script:
            raise ValueError("a fake provider needs at least one reply")
        self.script = list(script)
        self.requests: list[Request] = []
        # Echo the request's Authorization header into error bodies (a careless gateway).
        self.echo_auth = echo_auth
        self.server = HttpServer(self._handle)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"

    @property
    def bodies(self) -> list[Any]:
        return [r.json() for r in self.requests]

    async def __aenter__(self) -> FakeProvider:
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    async def _handle(self, request: Request, response: Response) -> None:
        self.requests.append(request)
        index = min(len(self.requests), len(self.script)) - 1
        reply = self.script[index]
        if isinstance(reply, Dynamic):
            reply = reply.choose(request)
        if isinstance(reply, Hang):
            await asyncio.sleep(reply.seconds)
            raise ConnectionDropped
        if isinstance(reply, Drop):
            raise ConnectionDropped
        if isinstance(reply, Body):
            await asyncio.sleep(reply.delay_headers)
            body = reply.body
            if self.echo_auth:
                auth = request.headers.get("authorization", "")
                body = (body.decode() if isinstance(body, bytes) else body).replace("{AUTH}", auth)
            await response.send(reply.status, body, reply.content_type, reply.headers)
            return
        await asyncio.sleep(reply.delay_headers)
        await response.start(reply.status, reply.content_type, reply.headers, reply.chunked)
        for part in reply.parts:
            if isinstance(part, Pause):
                await asyncio.sleep(part.seconds)
            else:
                await response.write(part)
        if reply.then == "drop":
            raise ConnectionDropped
        if reply.then == "hang":
            await asyncio.sleep(60)
            raise ConnectionDropped
        await response.end()
        if not reply.chunked:
            raise ConnectionDropped  # the body ends when the socket closes


# --------------------------------------------------------------------------------------------
# Building streams


def sse(obj: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return f"{head}data: {data}\n\n".encode()


DONE = b"data: [DONE]\n\n"


def chunk(
    content: str | None = None,
    *,
    model: str = "m",
    role: str | None = None,
    reasoning: str | None = None,
    reasoning_key: str = "reasoning_content",
    tool_calls: list[dict[str, Any]] | None = None,
    finish: str | None = None,
    logprobs: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """One Chat Completions chunk with choice 0."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta[reasoning_key] = reasoning
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    obj: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [choice],
        **top,
    }
    if usage is not None:
        obj["usage"] = usage
    return obj


def lp(token: str, logprob: float = -0.1, alts: int = 0, **extra: Any) -> dict[str, Any]:
    """A logprobs.content entry with `alts` alternatives (the token itself first)."""
    top = [{"token": token, "logprob": logprob}]
    top += [{"token": f"{token}~{i}", "logprob": logprob - 1.0 - i} for i in range(alts - 1)]
    entry: dict[str, Any] = {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode()),
        "top_logprobs": top if alts else [],
    }
    entry.update(extra)
    return entry


def simple_stream(
    texts: Sequence[str],
    *,
    model: str = "m",
    usage: dict[str, Any] | None = None,
    gap: float = 0.0,
    first_delay: float = 0.0,
    finish: str = "stop",
) -> list[bytes | Pause]:
    """role chunk, one chunk per text (paced), a finish chunk, a usage chunk, [DONE]."""
    parts: list[bytes | Pause] = [sse(chunk("", role="assistant", model=model))]
    if first_delay:
        parts.append(Pause(first_delay))
    for i, text in enumerate(texts):
        if i and gap:
            parts.append(Pause(gap))
        parts.append(sse(chunk(text, model=model)))
    parts.append(sse(chunk(None, model=model, finish=finish)))
    if usage is not None:
        parts.append(sse({"id": "chatcmpl-1", "model": model, "choices": [], "usage": usage}))
    parts.append(DONE)
    return parts


# --------------------------------------------------------------------------------------------
# Client side


def endpoint_for(fake: FakeProvider, **overrides: Any) -> EndpointConfig:
    """An endpoint pointed at the fake, with timeouts small enough for tests."""
    values: dict[str, Any] = {
        "name": "fake",
        "base_url": fake.base_url,
        "model": "m",
        "timeout_s": 2.0,
        "stall_timeout_s": 1.0,
        "max_retries": 2,
    }
    values.update(overrides)
    return EndpointConfig(**values)


def probe(**overrides: Any) -> Probe:
    values: dict[str, Any] = {
        "id": "p1",
        "messages": [{"role": "user", "content": "Say hi"}],
        "max_tokens": 16,
    }
    values.update(overrides)
    return Probe(**values)


async def collect(events: AsyncIterator[ClientEvent], limit_s: float = 10.0) -> list[ClientEvent]:
    """Every event of one stream, bounded in time and count."""
    out: list[ClientEvent] = []
    async with asyncio.timeout(limit_s), contextlib.aclosing(events) as stream:
        async for event in stream:
            out.append(event)
            if len(out) > 100_000:
                raise AssertionError("runaway stream")
    return out
