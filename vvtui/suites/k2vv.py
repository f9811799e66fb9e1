"""Import Moonshot's K2 Vendor Verifier test set as a probe suite.

K2VV's JSONL holds one Chat Completions request body per line (its `samples.jsonl`). Its
results files hold one record per line with the request under `request` and the official
answer under `response`; those are accepted too, and the official answer becomes the probe's
expectation. Each line becomes a `tool_call` probe scored the K2VV way: a `tool_call` check (the
name only when the line says which tool the official model called) so trigger agreement and
argument-schema validity are measured against the reference.

Mapping: role `_input` means `system` (as in K2VV); `tools`, `tool_choice` and
`response_format` are kept; `temperature`, `max_tokens` (or `max_completion_tokens`), `seed`,
`top_logprobs` become probe fields; `stream` becomes the tag `stream` or `no-stream` (vvtui
always streams, and a Probe has no field for it); `model`, `stream_options`, `logprobs` and `n`
are dropped (the endpoint config decides them); anything else goes to `extra_body`. Probes are
written with `template = false`, so braces in prompts are sent as written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vvtui.errors import ProbeError, located
from vvtui.suites.loader import check_probe_table
from vvtui.suites.spec import MESSAGE_KEYS, SpecError
from vvtui.toml_writer import TomlWriteError, check_writable, dumps

_DROPPED = ("model", "stream_options", "logprobs", "n", "messages", "tools", "tool_choice")
_FIELDS = {"temperature", "max_tokens", "max_completion_tokens", "seed", "top_logprobs"}


@dataclass(slots=True)
class ImportResult:
    toml: str
    probes: int
    problems: list[str] = field(default_factory=list)


def _fix_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty array")
    out = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise ValueError(f"messages[{i}] is not an object")
        msg = {k: v for k, v in msg.items() if v is not None}
        role = msg.get("role")
        if role == "_input":
            msg["role"] = "system"
        elif role not in ("system", "developer", "user", "assistant", "tool"):
            raise ValueError(f"messages[{i}] has an unknown role {role!r}")
        if "content" not in msg and not msg.get("tool_calls"):
            msg["content"] = ""
        if msg.get("tool_calls") is not None and not isinstance(msg["tool_calls"], list):
            raise ValueError(f"messages[{i}].tool_calls is not an array")
        if msg["role"] == "tool" and not isinstance(msg.get("tool_call_id"), str):
            # Some logs leave it out; the Chat Completions API requires one.
            msg["tool_call_id"] = f"call_{i}"
        out.append({k: v for k, v in msg.items() if k in _MESSAGE_KEYS})
    return out


_MESSAGE_KEYS = MESSAGE_KEYS


def _official(record: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]] | None, str | None]:
    """(finish_reason, tool calls, text) of the official answer in a K2VV results record."""
    response = record.get("response")
    if not isinstance(response, dict):
        return record.get("finish_reason"), None, None
    choices = response.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return record.get("finish_reason"), None, None
    choice = choices[0]
    message = choice.get("message") or {}
    calls = []
    for call in message.get("tool_calls") or []:
        fn = (call or {}).get("function") or {}
        if isinstance(fn.get("name"), str):
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except (TypeError, json.JSONDecodeError):
                args = None
            calls.append({"name": fn["name"], "arguments": args})
    reason = choice.get("finish_reason") or record.get("finish_reason")
    return reason, calls or None, message.get("content")


def _function_tools(tools: Any) -> bool:
    return isinstance(tools, list) and all(
        isinstance(t, dict)
        and t.get("type") == "function"
        and isinstance(t.get("function"), dict)
        and isinstance(t["function"].get("name"), str)
        for t in tools
    )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def line_to_probe(data: Any, probe_id: str) -> dict[str, Any]:
    """One JSONL record -> one [[probe]] table (a dict). Raises ValueError with the reason."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    official: tuple[str | None, list[dict[str, Any]] | None, str | None] = (None, None, None)
    if isinstance(data.get("request"), dict):
        official = _official(data)
        data = data["request"]
    probe: dict[str, Any] = {"id": probe_id, "kind": "tool_call", "template": False}
    tags = ["k2vv"]
    if "stream" in data:
        tags.append("stream" if data["stream"] else "no-stream")
    probe["tags"] = tags
    probe["description"] = "K2VV request: tool-call trigger and argument schema vs the reference"
    tools = data.get("tools")
    if tools is not None and not _function_tools(tools):
        raise ValueError("'tools' must be an array of function tools")
    if not tools:
        probe["kind"] = "chat"
    for key in ("temperature", "max_tokens", "max_completion_tokens", "seed", "top_logprobs"):
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if not _finite(value):
            raise ValueError(f"{key!r} must be a number")
        if key == "temperature":
            probe["temperature"] = float(value)
        elif key == "top_logprobs":
            probe["top_logprobs"] = int(value)
        elif key == "seed":
            probe["seed"] = int(value)
        else:
            probe["max_tokens"] = int(value)
    probe["messages"] = _fix_messages(data.get("messages"))
    if tools:
        probe["tools"] = tools
    if data.get("tool_choice") is not None and tools:
        probe["tool_choice"] = data["tool_choice"]
    if data.get("response_format") is not None:
        probe["response_format"] = data["response_format"]
    extra = {
        k: v
        for k, v in data.items()
        if k not in _DROPPED and k not in _FIELDS and k not in ("stream", "response_format")
    }
    extra = {k: v for k, v in extra.items() if v is not None}
    if extra:
        probe["extra_body"] = extra

    reason, calls, text = official
    checks: list[dict[str, Any]] = []
    if tools:
        if probe.get("tool_choice") == "none" or (reason is not None and reason != "tool_calls"):
            checks.append({"type": "no_tool_call"})
            if isinstance(text, str):
                probe["answer"] = text
        else:
            check: dict[str, Any] = {"type": "tool_call"}
            if calls and len({c["name"] for c in calls}) == 1:
                check["name"] = calls[0]["name"]
            checks.append(check)
            if calls and all(isinstance(c["arguments"], dict) for c in calls):
                names = {(t.get("function") or {}).get("name") for t in tools}
                if all(c["name"] in names for c in calls):
                    probe["answer_tool_calls"] = calls
    elif isinstance(text, str):
        probe["answer"] = text
    if checks:
        probe["checks"] = checks
    return probe


def import_k2vv(path: Path, suite_name: str | None = None) -> ImportResult:
    """Convert a K2VV JSONL file. Problems (one per bad line) are returned, not raised."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProbeError(f"{path}: no such file") from None
    except OSError as exc:
        raise ProbeError(f"{path}: cannot read: {exc}") from None
    name = suite_name or path.stem.replace("_", "-")
    probes: list[dict[str, Any]] = []
    problems: list[str] = []
    for lineno, line_bytes in enumerate(raw.splitlines(), 1):
        try:
            line = line_bytes.decode("utf-8").strip()
        except UnicodeDecodeError:
            problems.append(located(path, lineno, "not valid UTF-8"))
            continue
        if not line:
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(located(path, lineno, f"not valid JSON ({exc.msg})"))
            continue
        try:
            probe = line_to_probe(data, f"{name}-{lineno:05d}")
            check_writable(probe)  # TOML has no null inside arrays: find out per line
            # What is written must load back: run the loader's own checks on it now.
            check_probe_table(probe, name, path)
        except SpecError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            problems.append(located(path, lineno, f"{exc.message}{hint}"))
            continue
        except (ValueError, TomlWriteError) as exc:
            problems.append(located(path, lineno, str(exc)))
            continue
        probes.append(probe)
    doc = {
        "suite": {
            "name": name,
            "description": f"Imported from the K2 Vendor Verifier set {path.name}",
        },
        "probe": probes,
    }
    header = (
        f"Imported by `vvtui probes import-k2vv` from {path.name}: one probe per JSONL line.\n"
        "Tool-call trigger and argument-schema validity are scored against the reference."
    )
    return ImportResult(toml=dumps(doc, header=header), probes=len(probes), problems=problems)
