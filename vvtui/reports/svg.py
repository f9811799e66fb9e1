"""Small inline SVG charts for the HTML report: fidelity with its interval per endpoint, price
against fidelity with the Pareto front, and latency/throughput distributions.

Plain strings, no dependencies, no external references (no xmlns needed inline in HTML5). Every
label is escaped: endpoint names come from a user's config.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vvtui.reports import fmt, palette
from vvtui.scoring.perf import quantile
from vvtui.untrusted import neutralise

WIDTH = 640
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif"


def esc(value: object) -> str:
    return html.escape(neutralise(str(value)), quote=True)


def _f(x: float) -> str:
    """Coordinates with one decimal: enough for a screen, and stable text for tests."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Scale:
    lo: float
    hi: float
    px0: float
    px1: float
    log: bool = False

    def __call__(self, v: float) -> float:
        if self.log:
            lo, hi, v = math.log10(self.lo), math.log10(self.hi), math.log10(max(v, self.lo))
        else:
            lo, hi = self.lo, self.hi
        t = 0.0 if hi == lo else (v - lo) / (hi - lo)
        return self.px0 + t * (self.px1 - self.px0)

    def ticks(self) -> list[float]:
        return log_ticks(self.lo, self.hi) if self.log else nice_ticks(self.lo, self.hi)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    v = start
    while v <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(round(v, 12))
        v += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2, 5 × powers of ten inside [lo, hi]; just the powers when that is too many."""
    out = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**k
            if lo <= v <= hi:
                out.append(v)
    if len(out) > 8:
        out = [v for v in out if math.log10(v) == round(math.log10(v))]
    return out or [lo, hi]


def span_scale(values: Sequence[float], px0: float, px1: float, zero: bool = True) -> Scale:
    """A scale over the values: logarithmic when they spread over more than 30×, else linear
    from 0 (or from a rounded minimum when `zero` is False)."""
    lo, hi = min(values), max(values)
    if lo > 0 and hi / lo >= 30:
        return Scale(
            10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi)), px0, px1, True
        )
    if hi <= 0:
        return Scale(0.0, 1.0, px0, px1)
    top = nice_ticks(0.0, hi * 1.05)[-1]
    top = top if top >= hi else hi
    base = 0.0 if zero else nice_ticks(0.0, lo)[-1] if lo > 0 else 0.0
    return Scale(base if base < hi else 0.0, top, px0, px1)


def _open(height: float, label: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {_f(height)}" width="{WIDTH}" '
        f'height="{_f(height)}" role="img" aria-label="{esc(label)}" style="{FONT}">',
        f"<title>{esc(label)}</title>",
    ]


def _text(
    x: float, y: float, text: str, anchor: str = "start", size: int = 12, **attrs: str
) -> str:
    """A text element; extra attributes by keyword (font_style= becomes font-style=)."""
    attrs.setdefault("fill", palette.INK)
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{esc(text)}</text>"
    )


def _x_axis(scale: Scale, y: float, fmt: Callable[[float], str], caption: str) -> list[str]:
    out = [
        f'<line x1="{_f(scale.px0)}" y1="{_f(y)}" x2="{_f(scale.px1)}" y2="{_f(y)}" '
        f'stroke="{palette.MUTED}"/>'
    ]
    for t in scale.ticks():
        x = scale(t)
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x)}" y2="{_f(y + 4)}" '
            f'stroke="{palette.MUTED}"/>'
        )
        out.append(_text(x, y + 16, fmt(t), "middle", 11))
    mid = (scale.px0 + scale.px1) / 2
    out.append(_text(mid, y + 32, caption + (" (log scale)" if scale.log else ""), "middle", 11))
    return out


def _grid(scale: Scale, top: float, bottom: float) -> list[str]:
    return [
        f'<line x1="{_f(scale(t))}" y1="{_f(top)}" x2="{_f(scale(t))}" y2="{_f(bottom)}" '
        f'stroke="{palette.GRID}" stroke-width="0.6"/>'
        for t in scale.ticks()
    ]


def _colour(verdict: str | None) -> str:
    return palette.VERDICT.get(verdict or "", palette.UNKNOWN)[0]


# --------------------------------------------------------------------------------------------
# Fidelity with its interval


@dataclass(frozen=True, slots=True)
class FidelityRow:
    name: str
    fidelity: float | None
    low: float | None
    high: float | None
    verdict: str | None


def fidelity_chart(rows: Sequence[FidelityRow], threshold: float = 90.0) -> str:
    left, right, top, row_h = 150.0, 70.0, 10.0, 24.0
    height = top + row_h * max(1, len(rows)) + 44
    scale = Scale(0.0, 100.0, left, WIDTH - right)
    bottom = top + row_h * max(1, len(rows))
    out = _open(height, "Fidelity per endpoint with its 95% interval")
    out += _grid(scale, top, bottom)
    tx = scale(threshold)
    out.append(
        f'<line x1="{_f(tx)}" y1="{_f(top - 4)}" x2="{_f(tx)}" y2="{_f(bottom)}" '
        f'stroke="{palette.THRESHOLD}" stroke-dasharray="4 3" stroke-width="1.2">'
        f"<title>verdict threshold {threshold:g}</title></line>"
    )
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        out.append(_text(left - 8, y + 4, row.name, "end"))
        colour = _colour(row.verdict)
        if row.fidelity is None:
            out.append(_text(scale.px0 + 4, y + 4, "not measured", size=11, font_style="italic"))
            continue
        tip = f"{row.name}: {row.fidelity:.1f}"
        if row.low is not None and row.high is not None:
            x0, x1 = scale(row.low), scale(row.high)
            tip += f" [{fmt.interval(row.low, row.high)}] {row.verdict or ''}"
            out.append(
                f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(y)}" stroke="{colour}" '
                f'stroke-width="3" stroke-linecap="round" opacity="0.45"/>'
            )
            for x in (x0, x1):
                out.append(
                    f'<line x1="{_f(x)}" y1="{_f(y - 5)}" x2="{_f(x)}" y2="{_f(y + 5)}" '
                    f'stroke="{colour}" stroke-width="1.5"/>'
                )
        out.append(
            f'<circle cx="{_f(scale(row.fidelity))}" cy="{_f(y)}" r="5" fill="{colour}">'
            f"<title>{esc(tip)}</title></circle>"
        )
        out.append(_text(WIDTH - right + 8, y + 4, f"{row.fidelity:.1f}", size=12))
    out += _x_axis(scale, bottom, lambda v: f"{v:g}", "fidelity (dashed: verdict threshold)")
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Price against fidelity


@dataclass(frozen=True, slots=True)
class PricePoint:
    name: str
    cost: float
    fidelity: float
    verdict: str | None


def pareto_front(points: Sequence[PricePoint]) -> list[PricePoint]:
    """Points no other point beats on both counts (cheaper or as cheap, and more faithful),
    cheapest first."""
    front: list[PricePoint] = []
    best = -math.inf
    for p in sorted(points, key=lambda p: (p.cost, -p.fidelity, p.name)):
        if p.fidelity > best:
            front.append(p)
            best = p.fidelity
    return front


def price_chart(points: Sequence[PricePoint], caption: str = "run cost (USD)") -> str:
    left, right, top, bottom_margin = 56.0, 24.0, 14.0, 48.0
    height = 330.0
    bottom = height - bottom_margin
    out = _open(height, "Price against fidelity, with the Pareto front")
    if not points:
        out.append(
            _text(WIDTH / 2, height / 2, "no endpoint has both a cost and a fidelity", "middle")
        )
        out.append("</svg>")
        return "\n".join(out)
    xs = span_scale([p.cost for p in points], left, WIDTH - right)
    ys = Scale(0.0, 100.0, bottom, top)
    for t in ys.ticks():
        y = ys(t)
        out.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(WIDTH - right)}" y2="{_f(y)}" '
            f'stroke="{palette.GRID}" stroke-width="0.6"/>'
        )
        out.append(_text(left - 6, y + 4, f"{t:g}", "end", 11))
    out.append(
        _text(
            14,
            (top + bottom) / 2,
            "fidelity",
            "middle",
            11,
            transform=f"rotate(-90 14 {_f((top + bottom) / 2)})",
        )
    )
    out += _x_axis(xs, bottom, _usd_tick, caption)
    front = pareto_front(points)
    if len(front) > 1:
        path = []
        for a, b in itertools.pairwise(front):
            path.append((xs(a.cost), ys(a.fidelity)))
            path.append((xs(b.cost), ys(a.fidelity)))
        path.append((xs(front[-1].cost), ys(front[-1].fidelity)))
        d = "M" + " L".join(f"{_f(x)} {_f(y)}" for x, y in path)
        out.append(
            f'<path d="{d}" fill="none" stroke="{palette.THRESHOLD}" stroke-width="1.5" '
            f'stroke-dasharray="5 3"><title>Pareto front</title></path>'
        )
    on_front = {p.name for p in front}
    for p in points:
        x, y = xs(p.cost), ys(p.fidelity)
        colour = _colour(p.verdict)
        ring = (
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="9" fill="none" stroke="{palette.THRESHOLD}" '
            'stroke-width="1.5"/>'
            if p.name in on_front
            else ""
        )
        tip = f"{p.name}: fidelity {p.fidelity:.1f}, {_usd_tick(p.cost)}"
        out.append(
            ring + f'<circle cx="{_f(x)}" cy="{_f(y)}" r="5.5" fill="{colour}">'
            f"<title>{esc(tip)}</title></circle>"
        )
        anchor, dx = ("end", -12.0) if x > WIDTH - right - 120 else ("start", 12.0)
        out.append(_text(x + dx, y + 4, p.name, anchor, 11))
    out.append("</svg>")
    return "\n".join(out)


def _usd_tick(v: float) -> str:
    if v == 0:
        return "$0"
    if v >= 1:
        return f"${v:g}"
    decimals = min(8, max(2, 1 - math.floor(math.log10(v))))
    return f"${v:.{decimals}f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------------------------
# Distributions


def distribution_chart(
    series: Sequence[tuple[str, Sequence[float]]],
    caption: str,
    fmt: Callable[[float], str],
    label: str,
) -> str:
    """Per row: every value as a faint dot, a box from p25 to p75, whiskers from p10 to p90
    and a bar at the median."""
    left, right, top, row_h = 150.0, 70.0, 10.0, 26.0
    rows = max(1, len(series))
    bottom = top + row_h * rows
    height = bottom + 44
    out = _open(height, label)
    values = [v for _, vs in series for v in vs if v is not None and v > 0]
    if not values:
        out.append(_text(WIDTH / 2, top + 16, "nothing measured", "middle"))
        out.append("</svg>")
        return "\n".join(out)
    scale = span_scale(values, left, WIDTH - right)
    out += _grid(scale, top, bottom)
    for i, (name, raw) in enumerate(series):
        y = top + row_h * i + row_h / 2
        out.append(_text(left - 8, y + 4, name, "end"))
        vs = sorted(v for v in raw if v is not None and v > 0)
        if not vs:
            out.append(_text(scale.px0 + 4, y + 4, "not measured", size=11, font_style="italic"))
            continue
        step = max(1, len(vs) // 200)
        for j, v in enumerate(vs[::step]):
            jitter = ((j * 7919) % 11 - 5) * 0.9
            out.append(
                f'<circle cx="{_f(scale(v))}" cy="{_f(y + jitter)}" r="1.6" '
                f'fill="{palette.MUTED}" opacity="0.35"/>'
            )
        p10, p25, p50, p75, p90 = (quantile(vs, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9))
        out.append(
            f'<line x1="{_f(scale(p10))}" y1="{_f(y)}" x2="{_f(scale(p90))}" y2="{_f(y)}" '
            f'stroke="{palette.INK}" stroke-width="1"/>'
        )
        tip = (
            f"{name}: p10 {fmt(p10)}, p25 {fmt(p25)}, median {fmt(p50)}, p75 {fmt(p75)}, "
            f"p90 {fmt(p90)} ({len(vs)} requests)"
        )
        x25, x75 = scale(p25), scale(p75)
        out.append(
            f'<rect x="{_f(x25)}" y="{_f(y - 7)}" width="{_f(max(1.0, x75 - x25))}" height="14" '
            f'fill="#ddf4ff" stroke="#0969da" stroke-width="1"><title>{esc(tip)}</title></rect>'
        )
        out.append(
            f'<line x1="{_f(scale(p50))}" y1="{_f(y - 7)}" x2="{_f(scale(p50))}" y2="{_f(y + 7)}" '
            f'stroke="#0969da" stroke-width="2.5"/>'
        )
        out.append(_text(WIDTH - right + 8, y + 4, fmt(p50), size=12))
    out += _x_axis(scale, bottom, fmt, caption)
    out.append("</svg>")
    return "\n".join(out)
