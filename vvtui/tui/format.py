"""How numbers read on screen. One place, so the scoreboard, the panes and the tests agree."""

from __future__ import annotations

from collections.abc import Sequence

from vvtui.content import content_text
from vvtui.model import Probe
from vvtui.reports.fmt import interval
from vvtui.scoring import EndpointScore

MISSING = "–"
SPARK = "▁▂▃▄▅▆▇█"

MARK_GLYPHS = {
    "pass": "✓",
    "fail": "✗",
    "diverged": "≠",
    "error": "!",
    "pending": "·",
}
VERDICT_GLYPHS = {
    "faithful": "✓",
    "degraded": "✗",
    "inconclusive": "?",
    "reference": "★",
    "no answers": "∅",
}


def fidelity(score: EndpointScore) -> str:
    if score.fidelity is None:
        return MISSING
    if score.ci_low is None or score.ci_high is None:
        return f"{score.fidelity:.1f}"
    # The same rounding as the CLI and the reports (one decimal, outwards): see reports.fmt.
    return f"{score.fidelity:.1f} [{interval(score.ci_low, score.ci_high)}]"


def percent(value: float | None) -> str:
    return MISSING if value is None else f"{100 * value:.0f}%"


def ratio(value: float | None, digits: int = 2) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def kl(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.3f}" if value >= 0.001 or value == 0 else f"{value:.1e}"


def millis(seconds: float | None) -> str:
    return MISSING if seconds is None else f"{seconds * 1000:.0f} ms"


def rate(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0f}"


def cost(usd: float | None) -> str:
    if usd is None:
        return MISSING
    return f"${usd:.4f}" if usd < 10 else f"${usd:,.2f}"


def sparkline(values: Sequence[float], width: int, low: float = 0.0, high: float = 100.0) -> str:
    """The last `width` values (resampled when longer) as block characters on a fixed scale, so
    two endpoints' lines can be compared by eye."""
    if not values or width <= 0:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [values[min(len(values) - 1, int((i + 1) * step) - 1)] for i in range(width)]
    span = high - low or 1.0
    top = len(SPARK) - 1
    out = []
    for v in values:
        level = round((min(high, max(low, v)) - low) / span * top)
        out.append(SPARK[level])
    return "".join(out)


def truncate(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    if width <= 0:
        return ""
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"


BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, width: int) -> str:
    """`value` in [0, 1] as a horizontal bar of `width` cells, in eighths of a cell."""
    if width <= 0:
        return ""
    eighths = round(min(1.0, max(0.0, value)) * width * 8)
    full, rest = divmod(eighths, 8)
    out = "█" * full + (BAR_EIGHTHS[rest] if rest else "")
    return out.ljust(width)


def token(text: str | None, width: int = 14) -> str:
    """A token as it reads on screen: quoted, whitespace and control characters made visible
    (a token that is a space or a newline must not look like nothing)."""
    if text is None:
        return "(end)"
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    shown = shown.replace(" ", "␣")
    if len(shown) > width - 2:
        shown = shown[: max(1, width - 3)] + "…"
    return f"'{shown}'"


def prompt_line(probe: Probe) -> str:
    """The last user message of a probe, on one line (what the endpoints were asked)."""
    for message in reversed(probe.messages):
        if message.get("role") == "user":
            return " ".join(content_text(message.get("content")).split())
    return ""
