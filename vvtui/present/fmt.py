"""Numbers as every front end shows them: the TUI, the Markdown/HTML/CSV reports and the
terminal tables. One function per kind of number, so one value never reads two ways.

Every function takes None for "not measured" and shows it as an en dash, never as 0.
"""

from __future__ import annotations

import math

MISSING = "–"


def num(value: float | None, spec: str = ".1f") -> str:
    return MISSING if value is None else format(value, spec)


def ratio(value: float | None, digits: int = 2) -> str:
    """A ratio in [0, 1] such as an F1 score, to `digits` decimals."""
    return num(value, f".{digits}f")


def pct(share: float | None, digits: int = 0) -> str:
    """A share in [0, 1] as a percentage."""
    return MISSING if share is None else f"{100 * share:.{digits}f}%"


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds; one decimal below 10 ms, where a whole millisecond is a lot."""
    if seconds is None:
        return MISSING
    value = seconds * 1000
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def tps(value: float | None) -> str:
    """Tokens per second; one decimal below 100."""
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
    """A KL divergence in nats. A tiny one keeps its size (`3.5e-07`, not `0.0000`): a kernel's
    float noise next to an exact 0 is the difference this tool exists to show."""
    if value is None:
        return MISSING
    if 0 < abs(value) < 1e-4:
        return f"{value:.1e}"
    return f"{value:.4f}" if value < 10 else f"{value:.1f}"


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


def fidelity(value: float | None, lo: float | None = None, hi: float | None = None) -> str:
    """Fidelity with its interval when there is one: `91.2 [90.1–92.3]`."""
    if value is None:
        return MISSING
    if lo is None or hi is None:
        return num(value)
    return f"{num(value)} [{interval(lo, hi)}]"


def verdict_cost(requests: int | None, usd_spent: float | None) -> str:
    """What a verdict cost: "41 req $0.00360" (requests, then USD when priced)."""
    if not requests:
        return MISSING
    text = f"{requests} req"
    if usd_spent is not None:
        text += f" {usd(usd_spent)}"
    return text
