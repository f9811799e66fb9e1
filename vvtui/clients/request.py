"""Request bodies: a rendered Probe plus an EndpointConfig in, a JSON-able dict out.

Pure functions. Sampling goes out exactly as the probe says (temperature, max_tokens, seed) and
nothing else: no top_p, no penalties. A server's own defaults are part of what vvtui measures;
an endpoint that needs an override (llama-cpp-python's `repeat_penalty`) says so in its
`extra_body`, which is merged last and wins.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from vvtui.config import EndpointConfig
from vvtui.content import content_text
from vvtui.model import Probe

# Anthropic requires max_tokens; a probe that leaves it open gets this.
ANTHROPIC_DEFAULT_MAX_TOKENS = 4096


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A new dict: `override` merged into `base`, recursing into dicts; override wins otherwise."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def sim_hint(probe: Probe, sample: int) -> dict[str, Any]:
    """The `vvtui_sim` object the simulated server reads (its fields: vvtui.sim.server)."""
    calls = probe.answer_tool_calls
    return {
        "probe_id": probe.id,
        "kind": probe.kind,
        "answer": probe.answer,
        "tool_calls": (
            None
            if calls is None
            else [{"name": c.name, "arguments": copy.deepcopy(c.arguments)} for c in calls]
        ),
        "language": probe.language,
        "sample": sample,
    }


def seed_for(probe: Probe, sample: int) -> int | None:
    """Each sample of a sampled probe gets its own seed, so samples differ but rerun identically."""
    return None if probe.seed is None else probe.seed + sample


def _finish(
    body: dict[str, Any], probe: Probe, endpoint: EndpointConfig, sample: int
) -> dict[str, Any]:
    if probe.extra_body:
        body = deep_merge(body, probe.extra_body)
    if endpoint.extra_body:
        body = deep_merge(body, endpoint.extra_body)
    if endpoint.simulated:
        body["vvtui_sim"] = sim_hint(probe, sample)
    return body


# Alternatives per position asked on deterministic probes that do not say.
DEFAULT_TOP_LOGPROBS = 5


def build_openai_body(
    probe: Probe, endpoint: EndpointConfig, *, sample: int = 0, stream: bool = True
) -> dict[str, Any]:
    """The Chat Completions request body for one probe sample.

    Deterministic probes ask for DEFAULT_TOP_LOGPROBS alternatives unless the probe asks for
    more: with them, scoring can tell a flip at one of the reference's own near-ties from damage
    (docs/scoring.md), and llama-cpp-python returns no logprobs at all without `top_logprobs`.
    Sampled probes send `top_logprobs` only when they ask (> 0); 0 is never sent, as some
    servers reject it.
    """
    body: dict[str, Any] = {
        "model": endpoint.model,
        "messages": copy.deepcopy(probe.messages),
        "temperature": probe.temperature,
    }
    if probe.max_tokens is not None:
        body["max_tokens"] = probe.max_tokens
    seed = seed_for(probe, sample)
    if seed is not None:
        body["seed"] = seed
    if endpoint.logprobs:
        body["logprobs"] = True
        top = probe.top_logprobs
        if top <= 0 and probe.deterministic:
            top = DEFAULT_TOP_LOGPROBS
        if top > 0:
            body["top_logprobs"] = top
    if probe.tools:
        body["tools"] = copy.deepcopy(probe.tools)
    if probe.tool_choice is not None:
        body["tool_choice"] = copy.deepcopy(probe.tool_choice)
    if probe.response_format is not None:
        body["response_format"] = copy.deepcopy(probe.response_format)
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return _finish(body, probe, endpoint, sample)


# --------------------------------------------------------------------------------------------
# Anthropic Messages


def _anthropic_tool(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") if tool.get("type") == "function" else None
    if not isinstance(fn, dict):
        return copy.deepcopy(tool)  # already Anthropic-shaped (or unknown): pass through
    out: dict[str, Any] = {
        "name": fn.get("name", ""),
        "input_schema": copy.deepcopy(fn.get("parameters") or {"type": "object"}),
    }
    if fn.get("description"):
        out["description"] = fn["description"]
    return out


def _anthropic_tool_choice(choice: Any) -> Any:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "tool", "name": choice["function"].get("name", "")}
    return copy.deepcopy(choice)


def _anthropic_messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """System text lifted out; tool calls and tool results turned into content blocks."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.append(content_text(msg.get("content"), ""))
            continue
        if role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": msg.get("tool_call_id", ""),
                "content": content_text(msg.get("content"), ""),
            }
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        if role == "assistant" and msg.get("tool_calls"):
            blocks: list[dict[str, Any]] = []
            text = content_text(msg.get("content"), "")
            if text:
                blocks.append({"type": "text", "text": text})
            for call in msg["tool_calls"]:
                fn = call.get("function") or {}
                args = fn.get("arguments") or "{}"
                try:
                    parsed = json.loads(args) if isinstance(args, str) else args
                except ValueError:
                    parsed = {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id", ""),
                        "name": fn.get("name", ""),
                        "input": parsed if isinstance(parsed, dict) else {},
                    }
                )
            out.append({"role": "assistant", "content": blocks})
            continue
        out.append({"role": role or "user", "content": copy.deepcopy(msg.get("content", ""))})
    return "\n\n".join(s for s in system if s), out


def build_anthropic_body(
    probe: Probe, endpoint: EndpointConfig, *, sample: int = 0, stream: bool = True
) -> dict[str, Any]:
    """The Messages API body. No logprobs, seed or response_format exist in this protocol."""
    system, messages = _anthropic_messages(probe.messages)
    body: dict[str, Any] = {
        "model": endpoint.model,
        "messages": messages,
        "max_tokens": probe.max_tokens or ANTHROPIC_DEFAULT_MAX_TOKENS,
        "temperature": probe.temperature,
        "stream": stream,
    }
    if system:
        body["system"] = system
    if probe.tools:
        body["tools"] = [_anthropic_tool(t) for t in probe.tools]
    if probe.tool_choice is not None:
        body["tool_choice"] = _anthropic_tool_choice(probe.tool_choice)
    return _finish(body, probe, endpoint, sample)
