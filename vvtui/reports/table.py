"""The per-endpoint summary table printed by headless runs and `vvtui score`."""

from __future__ import annotations

from typing import Any

from vvtui.model import Snapshot


def _fmt(value: Any, spec: str, missing: str = "–") -> str:
    return missing if value is None else format(value, spec)


def fidelity_cell(s: dict[str, Any]) -> str:
    fid = s.get("fidelity")
    if fid is None:
        return "–"
    lo, hi = s.get("ci_low"), s.get("ci_high")
    if lo is None or hi is None:
        return f"{fid:5.1f}"
    return f"{fid:5.1f} [{lo:.0f}–{hi:.0f}]"


def endpoint_rows(snapshot: Snapshot) -> list[list[str]]:
    scores = snapshot.scores.get("endpoints", {})
    rows = []
    for e in snapshot.endpoints:
        s = scores.get(e.name, {})
        ttft = s.get("ttft_p50")
        cost = s.get("cost_usd")
        name = e.name + (" (ref)" if e.reference else "")
        errors = s.get("errors")
        rows.append(
            [
                name,
                fidelity_cell(s),
                s.get("verdict") or "–",
                _fmt(None if s.get("accuracy") is None else 100 * s["accuracy"], ".0f") + "%"
                if s.get("accuracy") is not None
                else "–",
                "–" if ttft is None else f"{ttft * 1000:.0f} ms",
                _fmt(s.get("tps_p50"), ".1f"),
                "–" if cost is None else f"${cost:.4f}",
                _fmt(errors, "d", "0"),
            ]
        )
    return rows


HEADERS = [
    "endpoint",
    "fidelity [95% CI]",
    "verdict",
    "accuracy",
    "TTFT p50",
    "tok/s p50",
    "cost",
    "errors",
]


def render_table(rows: list[list[str]], headers: list[str] = HEADERS) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    right = {1, 3, 4, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def endpoint_table(snapshot: Snapshot) -> str:
    return render_table(endpoint_rows(snapshot))
