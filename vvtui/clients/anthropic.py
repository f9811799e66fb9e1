"""Anthropic Messages: POST {base_url}/messages, the same client events as the OpenAI client.

Stream grammar: `message_start` → per content block `content_block_start`, `content_block_delta`
(`text_delta`, `input_json_delta` for tool input, `thinking_delta` → reasoning,
`signature_delta` ignored), `content_block_stop` → `message_delta` (stop reason; usage is
cumulative: the latest wins) → `message_stop`; `ping` anywhere; `event: error` mid-stream.
This protocol has no logprobs, so `TextDelta.tokens` is always None.
"""

from __future__ import annotations

import json
from typing import Any

from vvtui.clients.base import BaseClient
from vvtui.clients.events import ClientEvent, Usage
from vvtui.clients.failures import make_error, stream_error
from vvtui.clients.parser import StreamParser, as_int, loads
from vvtui.clients.request import build_anthropic_body
from vvtui.model import Probe

ANTHROPIC_VERSION = "2023-06-01"

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}


class AnthropicStreamParser(StreamParser):
    TERMINAL = "message_stop"

    def __init__(self, *, model_asked: str, max_output_bytes: int) -> None:
        super().__init__(model_asked=model_asked, max_output_bytes=max_output_bytes)
        # Anthropic numbers all content blocks; tool calls are numbered among themselves.
        self._tool_index: dict[int, int] = {}
        self._block_type: dict[int, str] = {}

    def feed_event(self, event: Any, t: float) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        stripped = event.data.strip()
        if not stripped:
            return out
        self.data_events += 1
        ok, obj = loads(stripped)
        if not ok or not isinstance(obj, dict):
            if event.event == "error":
                self._set_error(make_error("api", f"stream error: {stripped}"))
            else:
                self._malformed()
            return out
        kind = k if isinstance(k := obj.get("type"), str) else event.event
        try:
            self._dispatch(kind, obj, t, out)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            self._malformed()
        return out

    def _dispatch(self, kind: str, obj: dict[str, Any], t: float, out: list[ClientEvent]) -> None:
        if kind == "ping":
            return
        if kind == "error":
            self._set_error(stream_error(obj))
        elif kind == "message_start":
            message = obj.get("message")
            if isinstance(message, dict):
                self._meta(t, out, message.get("model"))
                if isinstance(message.get("usage"), dict):
                    self._usage(t, message["usage"])
        elif kind == "content_block_start":
            index = as_int(obj.get("index")) or 0
            block = obj.get("content_block")
            if not isinstance(block, dict):
                self._malformed()
                return
            btype = str(block.get("type", ""))
            self._block_type[index] = btype
            if btype in ("tool_use", "server_tool_use"):
                tool_index = self._tool_index.setdefault(index, len(self._tool_index))
                given = block.get("input")
                arguments = json.dumps(given, ensure_ascii=False) if given else ""
                name = block.get("name") if isinstance(block.get("name"), str) else None
                call_id = block.get("id") if isinstance(block.get("id"), str) else None
                self._tool(t, out, tool_index, call_id, name, arguments)
            elif btype == "text" and isinstance(block.get("text"), str):
                self._text(t, out, block["text"], None)
            elif btype == "thinking" and isinstance(block.get("thinking"), str):
                self._reasoning(t, out, block["thinking"])
        elif kind == "content_block_delta":
            index = as_int(obj.get("index")) or 0
            delta = obj.get("delta")
            if not isinstance(delta, dict):
                self._malformed()
                return
            dtype = delta.get("type")
            if dtype == "text_delta":
                self._text(t, out, str(delta.get("text") or ""), None)
            elif dtype == "input_json_delta":
                tool_index = self._tool_index.setdefault(index, len(self._tool_index))
                self._tool(t, out, tool_index, None, None, str(delta.get("partial_json") or ""))
            elif dtype == "thinking_delta":
                self._reasoning(t, out, str(delta.get("thinking") or ""))
            # signature_delta and unknown delta types carry nothing vvtui compares.
        elif kind == "message_delta":
            delta = obj.get("delta")
            if isinstance(delta, dict):
                reason = delta.get("stop_reason")
                if isinstance(reason, str) and reason:
                    self.finish_reason = STOP_REASONS.get(reason, reason)
                    self.native_reason = reason
                    if delta.get("stop_sequence") is not None:
                        self.finish_extra["stop_sequence"] = delta["stop_sequence"]
            if isinstance(obj.get("usage"), dict):
                self._usage(t, obj["usage"])
        elif kind == "message_stop":
            self.terminal = True
        # content_block_stop and unknown event types: nothing to do.

    def feed_completion(self, obj: Any, t: float) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        self.data_events += 1
        if not isinstance(obj, dict):
            self._set_error(make_error("protocol", "response JSON is not an object"))
            return out
        if obj.get("type") == "error" or obj.get("error") is not None:
            self._set_error(stream_error(obj))
            return out
        content = obj.get("content")
        if not isinstance(content, list):
            self._set_error(make_error("protocol", "response has no content"))
            return out
        self._meta(t, out, obj.get("model"))
        if isinstance(obj.get("usage"), dict):
            self._usage(t, obj["usage"])
        tool_index = 0
        for block in content:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text":
                self._text(t, out, str(block.get("text") or ""), None)
            elif btype == "thinking":
                self._reasoning(t, out, str(block.get("thinking") or ""))
            elif btype == "tool_use":
                arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
                self._tool(t, out, tool_index, block.get("id"), block.get("name"), arguments)
                tool_index += 1
        reason = obj.get("stop_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = STOP_REASONS.get(reason, reason)
            self.native_reason = reason
        self.terminal = True
        return out

    def _usage_event(self) -> Usage:
        usage = self.usage or {}
        prompt = as_int(usage.get("input_tokens"))
        if prompt is not None:
            # Cached prompt tokens are reported apart; they are still input the model read.
            for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
                prompt += as_int(usage.get(key)) or 0
        return Usage(self.usage_t, prompt, as_int(usage.get("output_tokens")), None, dict(usage))


class AnthropicClient(BaseClient):
    """`stream(probe, sample=0)` against the Anthropic Messages API."""

    protocol = "anthropic"

    def url(self) -> str:
        return f"{self.endpoint.base_url.rstrip('/')}/messages"

    def build_body(self, probe: Probe, sample: int) -> dict[str, Any]:
        return build_anthropic_body(probe, self.endpoint, sample=sample, stream=True)

    def auth_headers(self, key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if key:
            headers["x-api-key"] = key
        return headers

    def new_parser(self) -> StreamParser:
        return AnthropicStreamParser(
            model_asked=self.endpoint.model, max_output_bytes=self.endpoint.max_output_bytes
        )
