"""How things read on screen: sparklines, bars, tokens, prompts, and the numbers of
vvtui.present.fmt (shared with the reports) under the names the TUI calls them by."""

from __future__ import annotations

from collections.abc import Sequence

from vvtui.content import content_text
from vvtui.model import Probe
from vvtui.present import fmt as _fmt
from vvtui.present.fmt import MISSING
from vvtui.present.styles import MARK_GLYPHS, VERDICT_GLYPHS
from vvtui.scoring import EndpointScore

# The numbers are vvtui.present.fmt's, which the reports use too; these are the names the
# panes and screens call them by.
percent = _fmt.pct
ratio = _fmt.ratio
kl = _fmt.kl
millis = _fmt.ms
rate = _fmt.tps
cost = _fmt.usd

__all__ = [
    "MARK_GLYPHS",
    "MISSING",
    "VERDICT_GLYPHS",
    "bar",
    "cost",
    "fidelity",
    "kl",
    "millis",
    "percent",
    "prompt_line",
    "rate",
    "ratio",
    "sparkline",
    "token",
    "truncate",
]

SPARK = "▁▂▃▄▅▆▇█"


def fidelity(score: EndpointScore) -> str:
    """`91.2 [90.1–92.3]`: fidelity with its interval, rounded outwards (vvtui.present.fmt)."""
    return _fmt.fidelity(score.fidelity, score.ci_low, score.ci_high)


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
