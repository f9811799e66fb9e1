"""The send / retry / read loop both wire protocols share.

`BaseClient.stream()` is an async iterator of client events that never raises (except
`CancelledError`, which must propagate): every failure becomes one `Failed` event with a
one-line, redacted `ErrorInfo`. Each attempt emits `RequestSent` then `ResponseHeaders`; a
retried attempt is followed by `Retrying`; the stream ends with exactly one `Finish` or `Failed`.

Timing: the body is read by a small pump task that stamps `perf_counter()` the moment each
network read returns and queues the bytes, so a slow consumer (a UI repaint) delays handling,
never the stamps. Stalls are timed by the pump too: no bytes for `stall_timeout_s` is a stall.

Stop iterating early (or cancel the task) and the response is closed at once; for prompt
closing when breaking out of `async for`, wrap the iterator in `contextlib.aclosing()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from time import perf_counter
from typing import Any, ClassVar

import httpx

from vvtui import __version__
from vvtui.clients.events import (
    ClientEvent,
    Failed,
    Finish,
    Flag,
    ReasoningDelta,
    RequestSent,
    ResponseHeaders,
    Retrying,
    TextDelta,
    ToolCallDelta,
)
from vvtui.clients.failures import (
    body_excerpt,
    connect_failure,
    describe_exception,
    http_error,
    is_dns_failure,
    make_error,
    one_line,
)
from vvtui.clients.parser import StreamEnd, StreamParser
from vvtui.clients.retry import RetryPolicy, parse_retry_after, status_is_retryable
from vvtui.clients.sse import SSEReader
from vvtui.config import EndpointConfig
from vvtui.model import ErrorInfo, Probe
from vvtui.redact import read_secret

CONNECT_TIMEOUT_S = 10.0
ERROR_BODY_LIMIT = 64 * 1024
# After the terminal event, how long to wait for the body's end so the connection can go back
# to the pool (a fresh TLS handshake would otherwise land in the next request's TTFB).
DRAIN_S = 0.25
# How long a body pump that is already closing its response may take before it is cancelled.
CLOSE_GRACE_S = 5.0
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_OUTPUT_EVENTS = (TextDelta, ReasoningDelta, ToolCallDelta)


@dataclass(slots=True)
class _End:
    """How the body ended, as seen by the pump: eof | stall | dropped | protocol."""

    t: float
    kind: StreamEnd
    detail: str = ""


@dataclass(slots=True)
class _Outcome:
    """What an attempt left for the retry loop: an error worth retrying, or nothing."""

    retry_error: ErrorInfo | None = None
    retry_after: float | None = None


class _Handoff:
    """The pump → reader channel. An `asyncio.Queue` minus what it has and this does not use
    (a size bound, join(), task accounting): a network read costs an append and, when the reader
    is waiting, one future. The reader takes what is queued without awaiting (`items`)."""

    __slots__ = ("_waiter", "items")

    def __init__(self) -> None:
        self.items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Any) -> None:
        self.items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def get(self) -> Any:
        items = self.items
        while not items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return items.popleft()


class _StallWatch:
    """The pump's stall timer: one timer per body, not one per read.

    A per-read `asyncio.timeout` made, moved and cancelled a timer handle for every network read
    (a tenth of a streaming client's CPU). Here each read only notes its time; the timer wakes
    once per `stall_s` at most, and either re-arms for what is left since the last read or
    cancels the pump's read (the pump turns that cancellation into a stall)."""

    __slots__ = ("_handle", "_loop", "_stall_s", "_task", "fired", "last")

    def __init__(self, stall_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._stall_s = stall_s
        self.fired = False
        self.last = perf_counter()
        self._handle: asyncio.TimerHandle | None = self._loop.call_later(stall_s, self._check)

    def _check(self) -> None:
        quiet = perf_counter() - self.last
        if quiet < self._stall_s:
            self._handle = self._loop.call_later(self._stall_s - quiet, self._check)
            return
        self._handle = None
        self.fired = True
        self._task.cancel()

    def owns(self, task: asyncio.Task[Any]) -> bool:
        """Whether the cancellation being handled is this watch's alone (not also one from
        outside, which must propagate); consumes it."""
        return self.fired and task.uncancel() == 0

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def _pump(response: httpx.Response, handoff: _Handoff, stall_s: float, cap: int) -> None:
    """Read the body, stamping each read as it returns; always ends by handing over an `_End`
    (unless cancelled from outside).

    Reads at most `cap` bytes, so a consumer that stops pulling cannot let an endless body
    pile up in the queue."""
    chunks = response.aiter_bytes()
    put = handoff.put
    total = 0
    watch = _StallWatch(stall_s)
    try:
        while total <= cap:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                put(_End(perf_counter(), "eof"))
                return
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and watch.owns(task):
                    put(_End(perf_counter(), "stall", f"no bytes for {stall_s:g} s"))
                    return
                raise
            t = watch.last = perf_counter()
            total += len(chunk)
            put((t, chunk))
        put(_End(perf_counter(), "capped"))
    except httpx.TimeoutException:
        put(_End(perf_counter(), "stall", f"no bytes for {stall_s:g} s"))
    except httpx.DecodingError as exc:
        put(_End(perf_counter(), "protocol", describe_exception(exc)))
    except (httpx.HTTPError, OSError) as exc:
        put(_End(perf_counter(), "dropped", f"connection dropped: {exc}"))
    except Exception as exc:
        put(_End(perf_counter(), "dropped", describe_exception(exc)))
    finally:
        watch.stop()


def _overdue(handoff: _Handoff, limit: float) -> None:
    """The request's deadline passed: end the body after what was read before it."""
    detail = f"no complete answer within {limit:g} s (request_timeout_s)"
    handoff.put(_End(perf_counter(), "timeout", detail))


def _mode_from_content_type(content_type: str) -> str:
    if "event-stream" in content_type:
        return "sse"
    if "json" in content_type:
        return "json"
    if "html" in content_type:
        return "text"
    return ""  # sniff the first bytes


def _sniff(head: bytes | bytearray) -> str:
    """json, sse, or text (an error page or anything else that is not an answer)."""
    first = head[:1]
    if first in (b"{", b"["):
        return "json"
    # SSE lines start with a field name (data, event, id, retry), a comment or a BOM.
    if first in (b"d", b"e", b"i", b"r", b":", b"\xef"):
        return "sse"
    return "text"


async def _stop(task: asyncio.Task[None], response: httpx.Response | None = None) -> None:
    """Cancel and reap a helper task without swallowing a cancellation aimed at us.

    With `response`, the task is the body pump: once httpx has begun closing the response (it
    does so itself, inside the read that finds the end of the body) the pump is left to finish.
    A cancellation landing in that close interrupts httpcore before it gives the connection
    back, and the pool keeps counting the request as active for good: after a few of those every
    later request to the endpoint waits for a free connection until its header timeout (seen
    after mid-stream error chunks, whose body ends a moment after the parser stops reading)."""
    if response is not None and response.is_closed and not task.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), CLOSE_GRACE_S)
    if not task.done():
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        pass


def expand_env(value: str, missing: list[str]) -> str:
    """`${VAR}` → the variable's value, read at request time (and remembered for redaction)."""

    def sub(match: re.Match[str]) -> str:
        secret = read_secret(match.group(1))
        if secret is None:
            missing.append(match.group(1))
            return ""
        return secret

    return _ENV_REF.sub(sub, value)


def missing_key_error(endpoint: EndpointConfig, var: str) -> ErrorInfo:
    """The one-line error for a request that was not sent because `$var` is not set."""
    if var == endpoint.api_key_env:
        message = (
            f"endpoint {endpoint.name}: api_key_env names ${var}, which is not set in the "
            f"environment (export {var}=<your key>, or remove api_key_env if the server needs "
            "no key)"
        )
    else:
        message = (
            f"endpoint {endpoint.name}: a header uses ${{{var}}}, which is not set in the "
            f"environment (export {var}, or remove the header)"
        )
    return make_error("config", message)


class BaseClient:
    """Base of the protocol clients (each one a `vvtui.clients.StreamingClient`). Subclasses
    define the URL, body, auth and parser."""

    protocol: ClassVar[str] = ""

    def __init__(
        self,
        endpoint: EndpointConfig,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.http = http
        self.retry = retry or RetryPolicy()
        ep = endpoint
        self._timeout = httpx.Timeout(
            connect=min(ep.timeout_s, CONNECT_TIMEOUT_S),
            # A backstop only: header and stall timeouts are enforced with asyncio timeouts.
            read=max(ep.timeout_s, ep.stall_timeout_s) + 5.0,
            write=ep.timeout_s,
            pool=ep.timeout_s,
        )
        # Raw body bytes we accept before calling the answer capped (SSE framing and logprobs
        # make a stream far larger than its text).
        self.raw_cap = max(64 * ep.max_output_bytes, 1 << 20)

    # ---- protocol hooks

    def url(self) -> str:
        raise NotImplementedError

    def build_body(self, probe: Probe, sample: int) -> dict[str, Any]:
        raise NotImplementedError

    def auth_headers(self, key: str | None) -> dict[str, str]:
        raise NotImplementedError

    def new_parser(self) -> StreamParser:
        raise NotImplementedError

    # ---- public

    async def stream(self, probe: Probe, *, sample: int = 0) -> AsyncGenerator[ClientEvent, None]:
        """Send `probe` (sample `sample`) and yield its events; never raises but cancellation."""
        try:
            body = self.build_body(probe, sample)
        except Exception as exc:
            message = f"cannot build the request: {describe_exception(exc)}"
            yield Failed(perf_counter(), make_error("internal", message))
            return
        async with aclosing(self.stream_body(body)) as events:
            async for event in events:
                yield event

    async def stream_body(self, body: dict[str, Any]) -> AsyncGenerator[ClientEvent, None]:
        """Like `stream()` for a ready request body (K2VV imports, capability checks)."""
        ended = False
        partial = False
        try:
            async with aclosing(self._retry_loop(body)) as events:
                async for event in events:
                    if isinstance(event, Failed | Finish):
                        ended = True
                    elif isinstance(event, _OUTPUT_EVENTS):
                        partial = True
                    yield event
        except Exception as exc:  # a bug here must still end the stream with a Failed
            if not ended:
                message = f"vvtui bug in the {self.protocol} client: {describe_exception(exc)}"
                yield Failed(perf_counter(), make_error("internal", message), partial=partial)

    # ---- internals

    def request_headers(self) -> tuple[dict[str, str], list[str]]:
        """Headers for one attempt, secrets read now; also the env vars that were not set."""
        ep = self.endpoint
        missing: list[str] = []
        headers = {
            "Accept": "text/event-stream, application/json",
            "User-Agent": f"vvtui/{__version__}",
        }
        key = read_secret(ep.api_key_env)
        if ep.api_key_env and not key:
            missing.append(ep.api_key_env)
        headers.update(self.auth_headers(key))
        for name, value in ep.headers.items():
            headers[name] = expand_env(value, missing)
        return headers, missing

    async def _retry_loop(self, body: dict[str, Any]) -> AsyncGenerator[ClientEvent, None]:
        ep = self.endpoint
        policy = self.retry
        budget = policy.budget_s if policy.budget_s is not None else ep.timeout_s
        first_sent: float | None = None
        attempt = 0
        while True:
            attempt += 1
            outcome = _Outcome()
            async with aclosing(self._attempt(body, attempt, outcome)) as events:
                async for event in events:
                    if first_sent is None and isinstance(event, RequestSent):
                        first_sent = event.t
                    yield event
            error = outcome.retry_error
            if error is None:
                return
            now = perf_counter()
            delay = policy.delay(attempt, outcome.retry_after)
            elapsed = now - (first_sent if first_sent is not None else now)
            if attempt > ep.max_retries or not policy.allows(elapsed, delay, budget):
                if attempt > 1:
                    error = ErrorInfo(
                        error.kind,
                        one_line(f"{error.message} (after {attempt} attempts)"),
                        error.status,
                    )
                yield Failed(now, error)
                return
            yield Retrying(now, attempt, delay, error.message)
            await asyncio.sleep(delay)

    async def _attempt(
        self, body: dict[str, Any], attempt: int, outcome: _Outcome
    ) -> AsyncGenerator[ClientEvent, None]:
        ep = self.endpoint
        url = self.url()
        headers, missing = self.request_headers()
        if missing:
            # Sending without the key would only earn a 401 (or, from a lenient local server, an
            # answer the config did not ask for); say plainly which variable to set instead.
            yield Failed(perf_counter(), missing_key_error(ep, missing[0]))
            return
        headers["Content-Type"] = "application/json"
        try:
            content = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            message = f"the request body cannot be sent as JSON: {describe_exception(exc)}"
            yield Failed(perf_counter(), make_error("internal", message))
            return
        try:
            request = self.http.build_request(
                "POST", url, content=content, headers=headers, timeout=self._timeout
            )
        except Exception as exc:
            t = perf_counter()
            yield RequestSent(t, attempt)
            message = f"cannot send to {url}: {describe_exception(exc)}"
            yield Failed(t, make_error("connect", message))
            return
        port = request.url.port
        where = request.url.host + (f":{port}" if port else "")
        sent = perf_counter()
        yield RequestSent(sent, attempt)
        try:
            async with asyncio.timeout(ep.timeout_s):
                response = await self.http.send(request, stream=True)
        except (TimeoutError, httpx.TimeoutException) as exc:
            detail = "" if isinstance(exc, TimeoutError) else f" ({describe_exception(exc)})"
            message = f"no response headers from {where} within {ep.timeout_s:g} s{detail}"
            yield Failed(perf_counter(), make_error("timeout", message))
            return
        except httpx.ConnectError as exc:
            if is_dns_failure(exc):
                message = f"cannot resolve {request.url.host}: {describe_exception(exc)}"
                yield Failed(perf_counter(), make_error("dns", message))
                return
            outcome.retry_error = connect_failure(where, exc)
            return
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            message = f"{where} closed the connection before responding: {describe_exception(exc)}"
            outcome.retry_error = make_error("connect", message)
            return
        except (httpx.HTTPError, OSError) as exc:
            message = f"request to {where} failed: {describe_exception(exc)}"
            yield Failed(perf_counter(), make_error("connect", message))
            return

        try:
            yield ResponseHeaders(perf_counter(), response.status_code)
            if response.status_code >= 300:
                error = await self._error_from(response)
                if status_is_retryable(response.status_code, response.headers):
                    outcome.retry_error = error
                    outcome.retry_after = parse_retry_after(response.headers)
                else:
                    yield Failed(perf_counter(), error)
                return
            deadline = sent + ep.request_timeout_s
            async with aclosing(self._read(response, body, deadline)) as events:
                async for event in events:
                    yield event
        finally:
            await response.aclose()

    async def _error_from(self, response: httpx.Response) -> ErrorInfo:
        data = bytearray()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.endpoint.stall_timeout_s):
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) >= ERROR_BODY_LIMIT:
                        break
        status = response.status_code
        error = http_error(
            status,
            response.reason_phrase,
            bytes(data[:ERROR_BODY_LIMIT]),
            response.headers.get("content-type", ""),
        )
        if 300 <= status < 400 and response.headers.get("location"):
            error.message = one_line(
                f"{error.message} (redirected to {response.headers['location']})"
            )
        return error

    async def _read(
        self, response: httpx.Response, body: dict[str, Any], deadline: float
    ) -> AsyncGenerator[ClientEvent, None]:
        """Body → events, whether the server streams SSE or answers one JSON document.

        Reading ends by `deadline` (perf_counter) at the latest: keep-alive comments reset the
        stall timer, so a server that sends only those would otherwise hold the request forever."""
        parser = self.new_parser()
        sse = SSEReader()
        content_type = response.headers.get("content-type", "").lower()
        mode = _mode_from_content_type(content_type)
        json_body = bytearray()
        pending = bytearray()  # leading bytes before the mode could be sniffed
        raw_total = 0
        last_t = perf_counter()
        end = _End(last_t, "eof")
        handoff = _Handoff()
        queued = handoff.items
        pump = asyncio.create_task(
            _pump(response, handoff, self.endpoint.stall_timeout_s, self.raw_cap + 1)
        )
        # One timer for the whole body (not one per read): at the deadline it queues a timeout
        # end, so the reads queued before it are still handled and none after it are.
        overdue = asyncio.get_running_loop().call_later(
            max(0.0, deadline - perf_counter()),
            _overdue,
            handoff,
            self.endpoint.request_timeout_s,
        )
        try:
            while True:
                item = queued.popleft() if queued else await handoff.get()
                if isinstance(item, _End):
                    end = item
                    break
                t, data = item
                last_t = t
                raw_total += len(data)
                if not mode:
                    pending += data
                    head = pending.lstrip()
                    if not head:
                        continue
                    mode = _sniff(head)
                    data = bytes(pending)
                if mode == "json":
                    json_body += data
                    if raw_total > self.raw_cap:
                        end = _End(t, "capped")
                        break
                    continue
                if mode == "text":
                    json_body += data
                    if len(json_body) >= ERROR_BODY_LIMIT:
                        break
                    continue
                for sse_event in sse.feed(data):
                    for event in parser.feed_event(sse_event, t):
                        yield event
                    if parser.ended:
                        break
                if parser.ended:
                    end = _End(t, "eof")
                    break
                if raw_total > self.raw_cap:
                    end = _End(t, "capped")
                    break

            if mode == "json":
                for event in self._finish_json(parser, bytes(json_body), end, last_t, body):
                    yield event
                return
            if mode == "text":
                excerpt, _ = body_excerpt(bytes(json_body[:ERROR_BODY_LIMIT]), content_type)
                what = content_type.split(";")[0].strip() or "no content type"
                message = f"expected an event stream, got {what}: {excerpt}"
                yield Failed(last_t, make_error("protocol", message))
                return
            if end.kind != "capped" and not parser.ended:
                for sse_event in sse.close():
                    for event in parser.feed_event(sse_event, end.t):
                        yield event
                    if parser.ended:
                        break
            parser.malformed += sse.bad_lines
            t_end = end.t if end.kind in ("stall", "dropped", "protocol", "timeout") else last_t
            for event in parser.close(
                t_end, end.kind, invalid_utf8=sse.invalid_utf8, detail=end.detail
            ):
                yield event
            # The server has said its last word: let the body end so the connection is reused.
            if (parser.terminal or parser.error is not None) and not pump.done():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(pump), DRAIN_S)
        finally:
            overdue.cancel()
            await _stop(pump, response)

    def _finish_json(
        self,
        parser: StreamParser,
        data: bytes,
        end: _End,
        last_t: float,
        body: dict[str, Any],
    ) -> list[ClientEvent]:
        """A non-streamed answer (asked or not): parse the whole document into the same events."""
        out: list[ClientEvent] = []
        if end.kind == "capped":
            message = f"response body larger than {self.raw_cap} bytes"
            return [Failed(end.t, make_error("protocol", message))]
        if end.kind != "eof":
            return parser.close(end.t, end.kind, detail=end.detail)
        text = data.decode("utf-8", "replace")
        try:
            obj = json.loads(text)
        except ValueError:
            excerpt = one_line(text, 120)
            return [
                Failed(last_t, make_error("protocol", f"response is not valid JSON: {excerpt}"))
            ]
        if body.get("stream"):
            out.append(Flag(last_t, "ignored_stream", "asked to stream, got one JSON document"))
        out += parser.feed_completion(obj, last_t)
        invalid = text.count("\ufffd") - data.count("\ufffd".encode())
        out += parser.close(last_t, "eof", invalid_utf8=max(0, invalid))
        return out
