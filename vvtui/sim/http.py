"""A small asyncio HTTP/1.1 server for loopback use: the simulator and the tests' fake providers.

Hand-written rather than a framework because the simulator must control every byte and every
moment it is sent: exact pacing for TTFT/tokens-per-second ground truth, and faults a framework
would refuse to produce (invalid UTF-8, dropped connections, stalls, missing terminators).
Supports keep-alive, Content-Length and chunked request bodies, and streamed responses with
chunked transfer encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BODY = 64 * 1024 * 1024

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class ConnectionDropped(Exception):
    """Raised inside a handler to close the socket without a proper response end."""


@dataclass
class Response:
    """What a handler writes to. Either `send()` once, or `start()` then `write()`s then `end()`."""

    writer: asyncio.StreamWriter
    keep_alive: bool = True
    started: bool = False
    finished: bool = False
    chunked: bool = False
    _extra_headers: dict[str, str] = field(default_factory=dict)
    # The connection's reader, so a handler that holds a socket open (a simulated stall) can
    # notice the client giving up instead of waiting out its own time limit.
    reader: asyncio.StreamReader | None = None

    def peer_closed(self) -> bool:
        """True once the client has closed its side (or the connection is gone)."""
        if self.writer.transport.is_closing():
            return True
        return self.reader is not None and self.reader.at_eof()

    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        merged = {**self._extra_headers, **headers}
        if not self.keep_alive:
            merged["Connection"] = "close"
        lines += [f"{k}: {v}" for k, v in merged.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(
        self,
        status: int,
        body: bytes | str,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = body.encode("utf-8") if isinstance(body, str) else body
        head = {"Content-Type": content_type, "Content-Length": str(len(payload))}
        self.writer.write(self._head(status, {**head, **(headers or {})}) + payload)
        await self.writer.drain()
        self.started = self.finished = True

    async def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        await self.send(status, json.dumps(obj), "application/json", headers)

    async def start(
        self,
        status: int = 200,
        content_type: str = "text/event-stream",
        headers: dict[str, str] | None = None,
        chunked: bool = True,
    ) -> None:
        """Begin a streamed body. Without chunked encoding the body ends when the socket closes."""
        self.chunked = chunked
        head = {"Content-Type": content_type, "Cache-Control": "no-cache"}
        if chunked:
            head["Transfer-Encoding"] = "chunked"
        else:
            self.keep_alive = False
        self.writer.write(self._head(status, {**head, **(headers or {})}))
        await self.writer.drain()
        self.started = True

    async def write(self, data: bytes | str) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if not payload:
            return
        if self.chunked:
            self.writer.write(f"{len(payload):X}\r\n".encode() + payload + b"\r\n")
        else:
            self.writer.write(payload)
        await self.writer.drain()

    async def end(self) -> None:
        if self.chunked:
            self.writer.write(b"0\r\n\r\n")
            await self.writer.drain()
        self.finished = True


Handler = Callable[[Request, Response], Awaitable[None]]


class HttpServer:
    """`await server.start()`, then `server.port`; `await server.close()` when done."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            for task in list(self._conns):
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                response = Response(writer, keep_alive=keep_alive, reader=reader)
                try:
                    await self.handler(request, response)
                except ConnectionDropped:
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    break
                except Exception as exc:  # a handler bug: answer 500 rather than hang the client
                    if not response.started:
                        await response.send_json(
                            500, {"error": {"message": f"simulator error: {exc}", "type": "server"}}
                        )
                    break
                if not response.finished or not response.keep_alive:
                    break
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
        ):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    path, _, query = target.partition("?")
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY:
            raise ValueError("request body too large")
        body = await reader.readexactly(length)
    return Request(method=method.upper(), path=path, query=query, headers=headers, body=body)


class ServerThread:
    """Runs an HttpServer on its own event loop in a daemon thread.

    The simulator runs apart from the client's loop so its pacing is not delayed by the work it
    is measuring (a TUI repaint on the client side must not shift the server's ground truth).
    """

    def __init__(
        self, handler_factory: Callable[[], Handler], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._factory = handler_factory
        self._host = host
        self._port_wanted = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HttpServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread = threading.Thread(target=self._run, name="vvtui-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("simulated server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = HttpServer(self._factory(), self._host, self._port_wanted)
            loop.run_until_complete(self._server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._server.close())
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
