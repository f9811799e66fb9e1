"""Number and text formatting shared by the Markdown, HTML and text reports.

Every function takes None for "not measured" and shows it as an en dash, never as 0.
"""

from __future__ import annotations

import json
import math
from typing import Any

from vvtui.model import EndpointInfo, ErrorInfo, Result
from vvtui.untrusted import shown

MISSING = "–"


def num(value: float | None, spec: str = ".1f") -> str:
    return MISSING if value is None else format(value, spec)


def pct(share: float | None, digits: int = 0) -> str:
    """A share in [0, 1] as a percentage."""
    return MISSING if share is None else f"{100 * share:.{digits}f}%"


def ms(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    value = seconds * 1000
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def tps(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def usd(value: float | None) -> str:
    """Dollars with three significant digits below a dollar, never in exponent notation."""
    if value is None:
        return MISSING
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    decimals = min(8, max(2, 2 - math.floor(math.log10(abs(value)))))
    return f"${value:.{decimals}f}"


def kl(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.4f}" if value < 10 else f"{value:.1f}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 probe`, `2 probes`."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def interval(lo: float | None, hi: float | None) -> str:
    """A fidelity interval as every front end shows it: one decimal, rounded outwards, so the
    interval shown always holds the one computed. Rounding to nearest would print 90.0 for a
    lower bound of 89.96, beside a verdict that says it is below 90."""
    if lo is None or hi is None:
        return MISSING
    # The epsilon keeps float noise (99.80000000001) from widening a bound by a whole step.
    low = math.floor(lo * 10 + 1e-9) / 10
    high = math.ceil(hi * 10 - 1e-9) / 10
    # The top of the scale reads 100, not 100.0: it is exact, and the TUI's column stays narrow.
    return "–".join("100" if v >= 100 else f"{v:.1f}" for v in (low, high))


def fidelity_ci(score: dict) -> str:
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


def verdict_cost(cost: dict[str, Any] | None) -> str:
    """What a verdict cost: "41 req $0.00360" (requests, then USD when priced)."""
    if not cost or not cost.get("requests"):
        return MISSING
    text = f"{cost['requests']} req"
    if cost.get("usd") is not None:
        text += f" {usd(cost['usd'])}"
    return text
