"""OpenAI Chat Completions: POST {base_url}/chat/completions, SSE chunks → client events.

Dialects handled (see docs/providers.md): reasoning in `reasoning_content` (DeepSeek,
SGLang, llama.cpp, older vLLM) or `reasoning` (OpenRouter, newer vLLM, Ollama); usage in a
`choices: []`/null/missing chunk, on the last chunk, on every chunk (vLLM continuous stats: the
latest wins) or absent (llama-cpp-python); OpenRouter's top-level `provider`,
`native_finish_reason`, `usage.cost`, `: OPENROUTER PROCESSING` comments and mid-stream
`error` chunks; llama.cpp's `timings`; vLLM's `stop_reason`; SGLang's `matched_stop`.
Only choice 0 is read (vvtui never asks for n > 1).
"""

from __future__ import annotations

import json
from typing import Any

from vvtui.clients.base import BaseClient
from vvtui.clients.events import ClientEvent, Usage
from vvtui.clients.failures import make_error, stream_error
from vvtui.clients.parser import (
    DONE,
    Several,
    StreamParser,
    as_float,
    as_int,
    as_text,
    loads,
    parse_tokens,
)
from vvtui.clients.request import build_openai_body
from vvtui.model import Probe

# Choice-level fields kept with the finish reason when present.
_FINISH_EXTRAS = ("stop_reason", "matched_stop")


class OpenAIStreamParser(StreamParser):
    def __init__(self, *, model_asked: str, max_output_bytes: int) -> None:
        super().__init__(model_asked=model_asked, max_output_bytes=max_output_bytes)
        self._tool_ids: dict[str, int] = {}
        self._last_tool: int | None = None

    # ---- SSE

    def feed_event(self, event: Any, t: float) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        data = event.data
        if data[:1] != "{":  # every chunk starts so; only the rest need stripping and [DONE]
            stripped = data.strip()
            if not stripped:
                return out
            if stripped == DONE:
                self.terminal = True
                return out
        self.data_events += 1
        ok, obj = loads(data)
        if not ok:
            if event.event == "error":
                self._set_error(make_error("api", f"stream error: {data.strip()}"))
            else:
                self._malformed()
            return out
        chunks = obj if isinstance(obj, Several) else [obj]
        for chunk in chunks:
            if chunk == DONE:
                self.terminal = True
                continue
            try:
                self._chunk(chunk, t, out, error_event=event.event == "error")
            except (TypeError, ValueError, AttributeError, KeyError, IndexError):
                # Safety net for shapes nobody anticipated: count, keep going.
                self._malformed()
        return out

    def _chunk(self, chunk: Any, t: float, out: list[ClientEvent], *, error_event: bool) -> None:
        if not isinstance(chunk, dict):
            self._malformed()
            return
        self._common(chunk, t, out)
        choices = chunk.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict) and choice.get("index", 0) in (0, None):
                    self._choice(choice, t, out, streaming=True)
                    break
        elif choices is not None:
            self._malformed()
        if chunk.get("error") is not None or error_event:
            self._set_error(stream_error(chunk))

    def _common(self, chunk: dict[str, Any], t: float, out: list[ClientEvent]) -> None:
        self._meta(
            t, out, chunk.get("model"), chunk.get("provider"), chunk.get("system_fingerprint")
        )
        usage = chunk.get("usage")
        if isinstance(usage, dict) and usage:
            self._usage(t, usage)
        timings = chunk.get("timings")
        if isinstance(timings, dict):
            self.finish_extra["timings"] = timings

    def _choice(
        self, choice: dict[str, Any], t: float, out: list[ClientEvent], *, streaming: bool
    ) -> None:
        delta = choice.get("delta" if streaming else "message")
        if not isinstance(delta, dict) and streaming:
            delta = choice.get("message")  # a few servers put a message in stream chunks
        tokens = parse_tokens(choice.get("logprobs"))
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            self._reasoning(t, out, as_text(reasoning))
            self._text(t, out, as_text(delta.get("content")), tokens)
            calls = delta.get("tool_calls")
            if isinstance(calls, list):
                for position, call in enumerate(calls):
                    self._tool_fragment(call, position, t, out, streaming=streaming)
            legacy = delta.get("function_call")
            if isinstance(legacy, dict):
                self._tool_fragment(
                    {"index": 0, "function": legacy}, 0, t, out, streaming=streaming
                )
        elif tokens:
            self._text(t, out, "", tokens)
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason
            for key in _FINISH_EXTRAS:
                if key in choice:
                    self.finish_extra[key] = choice[key]
        native = choice.get("native_finish_reason")
        if isinstance(native, str) and native:
            self.native_reason = native

    def _tool_fragment(
        self, call: Any, position: int, t: float, out: list[ClientEvent], *, streaming: bool
    ) -> None:
        if not isinstance(call, dict):
            self._malformed()
            return
        fn = call.get("function")
        fn = fn if isinstance(fn, dict) else {}
        call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None
        index = as_int(call.get("index"))
        if index is None:
            # Some servers omit `index`: follow the id, else continue the last call.
            if call_id is not None:
                index = self._tool_ids.get(call_id, len(self._tool_ids))
            elif self._last_tool is not None and streaming:
                index = self._last_tool
            else:
                index = position
        if call_id is not None:
            self._tool_ids.setdefault(call_id, index)
        self._last_tool = index
        name = fn.get("name") if isinstance(fn.get("name"), str) and fn.get("name") else None
        arguments = fn.get("arguments")
        if isinstance(arguments, dict | list):
            arguments = json.dumps(arguments, ensure_ascii=False)
        elif not isinstance(arguments, str):
            arguments = ""
        self._tool(t, out, index, call_id, name, arguments)

    # ---- a whole JSON document (no streaming)

    def feed_completion(self, obj: Any, t: float) -> list[ClientEvent]:
        out: list[ClientEvent] = []
        self.data_events += 1
        if not isinstance(obj, dict):
            self._set_error(make_error("protocol", "response JSON is not an object"))
            return out
        if obj.get("error") is not None:
            self._set_error(stream_error(obj))
            return out
        self._common(obj, t, out)
        choices = obj.get("choices")
        choice = None
        if isinstance(choices, list):
            choice = next(
                (c for c in choices if isinstance(c, dict) and c.get("index", 0) in (0, None)),
                None,
            )
        if choice is None:
            self._set_error(make_error("protocol", "response has no choices"))
            return out
        try:
            self._choice(choice, t, out, streaming=False)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):
            self._set_error(make_error("protocol", "response choice has an unexpected shape"))
        self.terminal = True
        return out

    def _usage_event(self) -> Usage:
        usage = self.usage or {}
        prompt = as_int(usage.get("prompt_tokens"))
        completion = as_int(usage.get("completion_tokens"))
        if prompt is None:
            prompt = as_int(usage.get("input_tokens"))
        if completion is None:
            completion = as_int(usage.get("output_tokens"))
        return Usage(self.usage_t, prompt, completion, as_float(usage.get("cost")), dict(usage))


class OpenAIClient(BaseClient):
    """`stream(probe, sample=0)` against an OpenAI-compatible Chat Completions endpoint."""

    protocol = "openai"

    def url(self) -> str:
        return f"{self.endpoint.base_url.rstrip('/')}/chat/completions"

    def build_body(self, probe: Probe, sample: int) -> dict[str, Any]:
        return build_openai_body(probe, self.endpoint, sample=sample, stream=True)

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def new_parser(self) -> StreamParser:
        return OpenAIStreamParser(
            model_asked=self.endpoint.model, max_output_bytes=self.endpoint.max_output_bytes
        )
