"""Text formatting shared by the Markdown, HTML and text reports: answers, errors, labels,
prices. Numbers are vvtui.present.fmt's (shared with the TUI), re-exported here.

Every function takes None for "not measured" and shows it as an en dash, never as 0.
"""

from __future__ import annotations

import json
from typing import Any

from vvtui.model import EndpointInfo, ErrorInfo, Result

# The numbers are vvtui.present.fmt's, shared with the TUI: re-exported for the reports.
from vvtui.present.fmt import MISSING, interval, kl, ms, num, pct, tps, usd
from vvtui.untrusted import shown

__all__ = [
    "MISSING",
    "answer_text",
    "clip",
    "compact_json",
    "count",
    "endpoint_label",
    "error_text",
    "fidelity_ci",
    "interval",
    "kl",
    "ms",
    "num",
    "pct",
    "price",
    "tool_calls_text",
    "tps",
    "usd",
]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 probe`, `2 probes`."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def fidelity_ci(score: dict[str, Any]) -> str:
    """The interval of a stored score entry (a dict, as in the snapshot JSON)."""
    return interval(score.get("ci_low"), score.get("ci_high"))


def price(endpoint: EndpointInfo) -> str:
    """List price, input / output USD per million tokens."""
    p = endpoint.price
    if p is None:
        return MISSING
    return f"${p.input:g} / ${p.output:g}"


def endpoint_label(endpoint: EndpointInfo) -> str:
    """Labels as one short line ("simulated: int4 quantized"), saying "simulated" once for a
    simulated endpoint; empty when there is nothing to say."""
    text = ", ".join(f"{k}: {v}" for k, v in sorted(endpoint.labels.items()))
    if endpoint.simulated and "simulated" not in endpoint.labels:
        text = "simulated" + (f", {text}" if text else "")
    return text


def answer_text(result: Result | None) -> str:
    """What an endpoint answered, as one string: its text, then any tool calls on their own
    lines, or the error. Redacted: a provider may echo a key back in an error body."""
    if result is None:
        return ""
    parts = []
    if result.text:
        parts.append(result.text)
    for call in result.tool_calls:
        parts.append(f"→ {call.name}({call.arguments})")
    if result.error is not None:
        parts.append(error_text(result.error))
    return shown("\n".join(parts))


def error_text(error: ErrorInfo) -> str:
    status = f" {error.status}" if error.status else ""
    return shown(f"[error {error.kind}{status}: {error.message}]")


def tool_calls_text(result: Result | None) -> str:
    if result is None:
        return ""
    return shown("\n".join(f"→ {c.name}({c.arguments})" for c in result.tool_calls))


def compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
