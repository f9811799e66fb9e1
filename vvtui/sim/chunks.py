"""OpenAI Chat Completions wire shapes: stream chunks, whole completions, errors, SSE framing."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from vvtui.sim.answer import Piece


@dataclass(slots=True)
class Envelope:
    """The fields every chunk of one response repeats."""

    model: str
    fingerprint: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))


def dumps(obj: Any) -> str:
    # ensure_ascii=False on purpose: real servers send UTF-8 raw, U+2028 included.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def sse(obj: Any) -> bytes:
    return f"data: {dumps(obj)}\n\n".encode()


DONE = b"data: [DONE]\n\n"


def chunk(env: Envelope, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": env.id,
        "object": "chat.completion.chunk",
        "created": env.created,
        "model": env.model,
        "system_fingerprint": env.fingerprint,
        "choices": choices,
        **extra,
    }


def choice(
    delta: dict[str, Any], logprobs: dict[str, Any] | None = None, finish: str | None = None
) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def logprob_content(piece: Piece, top_n: int) -> dict[str, Any]:
    """One `logprobs.content[]` item: the token, its logprob, its bytes, `top_n` alternatives."""
    item = _entry(piece.text, piece.logprob if piece.logprob is not None else 0.0)
    item["top_logprobs"] = [_entry(t, lp) for t, lp in piece.top[:top_n]]
    return item


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(
    env: Envelope,
    pieces: list[Piece],
    finish_reason: str | None,
    use: dict[str, int],
    logprobs: bool,
    top_n: int,
) -> dict[str, Any]:
    """A whole `chat.completion` object, as a non-streaming request gets it."""
    text = "".join(p.text for p in pieces if p.kind == "text")
    calls: list[dict[str, Any]] = []
    for p in pieces:
        if p.kind == "call":
            calls.append(
                {"id": p.call_id, "type": "function", "function": {"name": p.text, "arguments": ""}}
            )
        elif p.kind == "args" and calls:
            calls[-1]["function"]["arguments"] += p.text
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    if calls:
        message["tool_calls"] = calls
    lp = None
    if logprobs:
        content = [logprob_content(p, top_n) for p in pieces if p.kind == "text"]
        lp = {"content": content, "refusal": None}
    return {
        "id": env.id,
        "object": "chat.completion",
        "created": env.created,
        "model": env.model,
        "system_fingerprint": env.fingerprint,
        "choices": [
            {"index": 0, "message": message, "logprobs": lp, "finish_reason": finish_reason}
        ],
        "usage": use,
    }


def error_body(
    message: str, type_: str, param: str | None = None, code: str | int | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
