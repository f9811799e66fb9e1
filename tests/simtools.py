"""Helpers for the simulator tests: raw SSE framing and reassembly, with no vvtui client code."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

CHAT = "/v1/chat/completions"


def url(server: Any, profile: str) -> str:
    return f"{server.url}/{profile}{CHAT}"


def body(content: str = "Say something.", **extra: Any) -> dict[str, Any]:
    return {
        "model": "vv-sim-8b",
        "messages": [{"role": "user", "content": content}],
        "temperature": 0,
        **extra,
    }


def events(raw: bytes) -> list[bytes]:
    """SSE events as raw byte blocks (blank-line separated), comments and all."""
    return [e for e in raw.split(b"\n\n") if e]


def data_payloads(raw: bytes) -> list[bytes]:
    out = []
    for event in events(raw):
        for line in event.split(b"\n"):
            if line.startswith(b"data: "):
                out.append(line[len(b"data: ") :])
    return out


def chunks(raw: bytes) -> list[dict[str, Any]]:
    """Every JSON data payload, `[DONE]` left out. Fails on any payload that is not JSON."""
    return [json.loads(p) for p in data_payloads(raw) if p != b"[DONE]"]


@dataclass
class Assembled:
    text: str = ""
    tokens: list[str] = field(default_factory=list)
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    models: set[str] = field(default_factory=set)


def assemble(items: list[dict[str, Any]]) -> Assembled:
    out = Assembled()
    for c in items:
        out.models.add(c.get("model"))
        if c.get("usage"):
            out.usage = c["usage"]
        for ch in c.get("choices") or []:
            delta = ch.get("delta") or {}
            out.text += delta.get("content") or ""
            for frag in delta.get("tool_calls") or []:
                call = out.calls.setdefault(
                    frag["index"], {"id": None, "name": "", "arguments": ""}
                )
                if frag.get("id"):
                    call["id"] = frag["id"]
                fn = frag.get("function") or {}
                call["name"] += fn.get("name") or ""
                call["arguments"] += fn.get("arguments") or ""
            lp = ch.get("logprobs")
            if lp and lp.get("content"):
                out.logprobs += lp["content"]
                out.tokens += [item["token"] for item in lp["content"]]
            if ch.get("finish_reason"):
                out.finish_reason = ch["finish_reason"]
    return out


def stream_raw(
    client: httpx.Client,
    target: str,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> tuple[httpx.Response, bytes]:
    with client.stream("POST", target, json={**payload, "stream": True}, headers=headers) as r:
        raw = b"".join(r.iter_raw())
    return r, raw
