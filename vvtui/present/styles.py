"""Marks and verdicts as they look: a glyph and a theme variable name for each. The TUI
resolves the variable to its theme's colour (`$vv-mark-pass`), the reports map it to their
palette (vvtui.reports.palette), so a verdict never reads in two colours or with two glyphs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Look:
    glyph: str
    # A theme variable, without the `$`: vvtui's themes define the `vv-mark-*` ones
    # (vvtui.tui.themes), "primary" is Textual's own accent.
    var: str

    @property
    def style(self) -> str:
        """The variable as a Textual style (`$vv-mark-pass`)."""
        return f"${self.var}"


# A probe's mark for one endpoint (vvtui.scoring.compare).
MARKS: dict[str, Look] = {
    "pass": Look("✓", "vv-mark-pass"),
    "fail": Look("✗", "vv-mark-fail"),
    "diverged": Look("≠", "vv-mark-diverged"),
    "error": Look("!", "vv-mark-error"),
    "pending": Look("·", "vv-mark-pending"),
}

# An endpoint's verdict (vvtui.scoring.verdict_gates; "no answers" is scoring.report.NO_ANSWERS).
VERDICTS: dict[str, Look] = {
    "faithful": Look("✓", "vv-mark-pass"),
    "degraded": Look("✗", "vv-mark-fail"),
    "inconclusive": Look("?", "vv-mark-diverged"),
    "reference": Look("★", "primary"),
    "no answers": Look("∅", "vv-mark-error"),
}

# What an unknown mark or verdict falls back to.
UNKNOWN = Look("", "primary")

MARK_GLYPHS = {name: look.glyph for name, look in MARKS.items()}
VERDICT_GLYPHS = {name: look.glyph for name, look in VERDICTS.items()}


def mark(name: str | None) -> Look:
    return MARKS.get(name or "", UNKNOWN)


def verdict(name: str | None) -> Look:
    return VERDICTS.get(name or "", UNKNOWN)
