"""Writing one answer: paced SSE for `stream: true`, one JSON object otherwise, faults included.

Pacing uses absolute deadlines on the loop clock: content token i is written at
`arrived + ttft + i / tokens_per_s`, so a late wake-up never accumulates into the next token's
timing. The answer is decoded lazily, one piece just ahead of its deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from vvtui.sim import chunks
from vvtui.sim.answer import Generation, Piece
from vvtui.sim.chunks import Envelope, choice, chunk, sse
from vvtui.sim.faults import HOLD_LIMIT_S, Fault, hold_open
from vvtui.sim.http import ConnectionDropped, Response

_MARK = "\ue000"  # private-use placeholder swapped for raw invalid bytes on the wire
_OVERSIZED_PIECE = "All work and no play makes a very long answer. " * 85  # ~4 KB


@dataclass(slots=True)
class Plan:
    """Everything decided about a response before its first byte."""

    env: Envelope
    gen: Generation
    arrived: float  # loop.time() when the request was read
    ttft_s: float
    tokens_per_s: float
    logprobs: bool
    top_n: int
    include_usage: bool
    usage_mode: str
    fault: Fault | None
    headers: dict[str, str]
    # Where to report how late each content token went out (index, seconds past its deadline).
    on_token: Callable[[int, float], None] | None = None
    # echo_stream: the request's headers, streamed back as the answer.
    echo: str = ""

    @property
    def fault_name(self) -> str | None:
        return self.fault.name if self.fault else None

    def deadline(self, i: int) -> float:
        return self.arrived + self.ttft_s + i / self.tokens_per_s


async def _until(t: float) -> None:
    delay = t - asyncio.get_running_loop().time()
    await asyncio.sleep(delay if delay > 0 else 0)


def _pieces(plan: Plan) -> Iterator[Piece]:
    for i, piece in enumerate(plan.gen):
        if plan.fault_name == "u2028" and i == 1 and piece.kind == "text":
            piece = replace(piece, text=piece.text + "\u2028")
        yield piece


class _Writer:
    def __init__(self, plan: Plan, resp: Response) -> None:
        self.plan = plan
        self.resp = resp
        self.tokens = 0
        # Every chunk repeats the envelope: serialise it once (this runs once per token).
        head = chunks.dumps(chunk(plan.env, []))
        self._head = "data: " + head[: head.rindex('"choices"')] + '"choices":'

    def _usage(self) -> dict[str, Any]:
        plan = self.plan
        if plan.usage_mode == "every_chunk":
            return {"usage": chunks.usage(plan.gen.prompt_tokens, self.tokens)}
        if plan.usage_mode == "final_chunk" and plan.include_usage:
            return {"usage": None}
        return {}

    async def send(
        self, choices: list[dict[str, Any]], raw_mark: bool = False, usage: bool = True
    ) -> None:
        text = self._head + chunks.dumps(choices)
        for key, value in (self._usage() if usage else {}).items():
            text += f',"{key}":{chunks.dumps(value)}'
        data = (text + "}\n\n").encode()
        if raw_mark:
            data = data.replace(_MARK.encode(), b"\xff\xfe")
        await self.resp.write(data)

    async def piece(self, piece: Piece, index: int) -> None:
        plan = self.plan
        if piece.kind == "call":
            call: dict[str, Any] = {"index": piece.index, "id": piece.call_id, "type": "function"}
            call["function"] = {"name": piece.text, "arguments": ""}
            await self.send([choice({"tool_calls": [call]})])
            return
        self.tokens += 1
        if piece.kind == "args":
            frag = {"index": piece.index, "function": {"arguments": piece.text}}
            await self.send([choice({"tool_calls": [frag]})])
            return
        logprobs = None
        if plan.logprobs:
            logprobs = {"content": [chunks.logprob_content(piece, plan.top_n)], "refusal": None}
        text = piece.text
        mark = plan.fault_name == "invalid_utf8" and index == 1
        if mark:
            text += _MARK
        await self.send([choice({"content": text}, logprobs)], raw_mark=mark)


async def stream(plan: Plan, resp: Response) -> None:
    """Answer `stream: true` with paced SSE, applying any mid-stream fault."""
    fault = plan.fault_name
    n = plan.fault.n if plan.fault else 0
    if fault == "no_done":
        resp.keep_alive = False
    await resp.start(200, "text/event-stream; charset=utf-8", plan.headers)
    out = _Writer(plan, resp)
    await out.send([choice({"role": "assistant", "content": ""})])
    # Yield before decoding the first token, so requests that arrived in the same burst are read
    # (and their clocks started) now rather than after this one's numpy work.
    await asyncio.sleep(0)
    if fault == "empty_choices":
        await out.send([], usage=False)
    if fault == "oversized":
        await _oversized(plan, resp, out, n)
        return
    if fault == "echo_stream":
        await _echo(plan, resp, out)
        return
    if fault == "keepalive_forever":
        await _keepalive_forever(resp)
    for i, piece in enumerate(_pieces(plan)):
        if fault == "comments" and i == 0:
            await _comments_until(plan, resp, plan.deadline(i))
        await _until(plan.deadline(i))
        if resp.peer_closed():
            raise ConnectionDropped
        if fault in ("stall", "drop", "midstream_error") and i >= n:
            await _strike(plan, resp, out)
            return
        await out.piece(piece, i)
        if plan.on_token is not None:
            plan.on_token(i, asyncio.get_running_loop().time() - plan.deadline(i))
        await _after_chunk(fault, out, resp, i + 1)
    if fault in ("stall", "drop", "midstream_error"):
        await _strike(plan, resp, out)  # the answer was shorter than n: strike before finishing
        return
    if fault == "no_done":
        await resp.end()
        return
    await out.send([choice({}, None, plan.gen.finish_reason)])
    if plan.include_usage and plan.usage_mode != "none":
        use = chunks.usage(plan.gen.prompt_tokens, out.tokens)
        await resp.write(sse(chunk(plan.env, [], usage=use)))
    await resp.write(chunks.DONE)
    await resp.end()


async def _after_chunk(fault: str | None, out: _Writer, resp: Response, count: int) -> None:
    if fault == "empty_choices" and count % 4 == 0:
        await out.send([], usage=False)
    elif fault == "comments" and count % 3 == 0:
        await resp.write(b": keep-alive\n\n")
    elif fault == "malformed_sse" and count == 1:
        await resp.write(b'data: {"id":"chatcmpl-x","choices":[{"index":0,"delta":{"cont\n\n')
    elif fault == "malformed_sse" and count == 2:
        await resp.write(b"data: this is not json\n\n")
    elif fault == "malformed_sse" and count == 3:
        await resp.write(b"<<garbage line without a field>>\n\n")


async def _comments_until(plan: Plan, resp: Response, deadline: float) -> None:
    """OpenRouter's `: OPENROUTER PROCESSING` comments while the first token is pending: one at
    once, as OpenRouter sends it, then more while the wait lasts (a loaded machine may have no
    wait left, and the comment must still be there)."""
    loop = asyncio.get_running_loop()
    step = max(plan.ttft_s / 3, 0.001)
    await resp.write(b": OPENROUTER PROCESSING\n\n")
    for _ in range(1000):
        if loop.time() >= deadline - step / 2:
            break
        await resp.write(b": OPENROUTER PROCESSING\n\n")
        await _until(min(deadline, loop.time() + step))


async def _strike(plan: Plan, resp: Response, out: _Writer) -> None:
    fault = plan.fault_name
    if fault == "stall":
        await hold_open(resp)
    if fault == "drop":
        raise ConnectionDropped
    # midstream_error: OpenRouter's shape, an error object beside a choice that finishes "error".
    err = {"code": "server_error", "message": "Upstream provider disconnected unexpectedly"}
    await resp.write(
        sse(chunk(plan.env, [choice({"content": ""}, None, "error")], error=err, provider="sim"))
    )
    await resp.end()


async def _oversized(plan: Plan, resp: Response, out: _Writer, megabytes: int) -> None:
    await _until(plan.deadline(0))
    sent, limit = 0, max(megabytes, 1) * 1_000_000
    for _ in range(limit // len(_OVERSIZED_PIECE) + 2):
        if sent >= limit:
            break
        if resp.peer_closed():
            raise ConnectionDropped
        await out.send([choice({"content": _OVERSIZED_PIECE})])
        out.tokens += 1
        sent += len(_OVERSIZED_PIECE)
    await out.send([choice({}, None, "length")])
    await resp.write(chunks.DONE)
    await resp.end()


async def _keepalive_forever(resp: Response, every_s: float = 0.05) -> None:
    """`: keep-alive` comments and never a token, until the client leaves (or the hold limit):
    an upstream stuck behind a gateway that keeps the connection warm."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOLD_LIMIT_S
    while not resp.peer_closed() and loop.time() < deadline:
        await resp.write(b": keep-alive\n\n")
        await asyncio.sleep(every_s)
    raise ConnectionDropped


async def _echo(plan: Plan, resp: Response, out: _Writer) -> None:
    """The request's headers (credentials and all) as the answer, in 5-character tokens, so a
    key arrives split across deltas and logprob entries."""
    text = f"You sent: {plan.echo}"
    for i, start in enumerate(range(0, len(text), 5)):
        await _until(plan.deadline(i))
        piece = text[start : start + 5]
        logprobs = None
        if plan.logprobs:
            entry = {"token": piece, "logprob": 0.0, "bytes": list(piece.encode())}
            logprobs = {"content": [{**entry, "top_logprobs": []}], "refusal": None}
        out.tokens += 1
        await out.send([choice({"content": piece}, logprobs)])
    await out.send([choice({}, None, "stop")])
    await resp.write(chunks.DONE)
    await resp.end()


async def whole(plan: Plan, resp: Response) -> None:
    """Answer `stream: false` (or a server that ignores `stream: true`) with one JSON object."""
    await asyncio.sleep(0)  # as in stream(): let a burst of requests be read before decoding
    pieces = list(_pieces(plan))
    await _until(plan.deadline(max(len(pieces) - 1, 0)))
    if plan.fault_name == "stall":
        await hold_open(resp)
    if plan.fault_name == "drop":
        raise ConnectionDropped
    use = chunks.usage(plan.gen.prompt_tokens, plan.gen.completion_tokens)
    body = chunks.completion(
        plan.env, pieces, plan.gen.finish_reason, use, plan.logprobs, plan.top_n
    )
    await resp.send(200, chunks.dumps(body), headers=plan.headers)
