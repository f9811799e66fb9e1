"""Colours reports use, with their meaning, kept in one place so the HTML report, its charts and
any other front end draw the same thing the same way. Chosen to read on a light background and
in print, and to stay apart for the common colour-vision deficiencies (diffs also differ in
decoration, not colour alone: missing text is struck through, the first divergence is boxed).
"""

from __future__ import annotations

from vvtui.present.styles import MARKS, VERDICTS

# The style table's theme variables (vvtui.present.styles) as report colours: ink and a pale
# background for badges.
BY_VAR = {
    "vv-mark-pass": ("#1a7f37", "#dafbe1"),
    "vv-mark-fail": ("#cf222e", "#ffebe9"),
    "vv-mark-diverged": ("#9a6700", "#fff8c5"),
    "vv-mark-error": ("#ffffff", "#6e7781"),
    "vv-mark-pending": ("#57606a", "#f6f8fa"),
    "primary": ("#0969da", "#ddf4ff"),
}
UNKNOWN = ("#57606a", "#f6f8fa")

# Verdicts and probe marks, each in its style's colour.
VERDICT = {name: BY_VAR[look.var] for name, look in VERDICTS.items()}
MARK = {name: BY_VAR[look.var] for name, look in MARKS.items()}

# Token diffs against the reference (backgrounds), with what each means.
DIFF = {
    "replace": ("#ffe08a", "replaced: both answers have text here and it differs"),
    "insert": ("#abf2bc", "inserted: the candidate has text the reference lacks"),
    "delete": ("#ffc1bd", "missing: reference text the candidate lacks (struck through)"),
    "first": ("#8250df", "first divergence: where the answers first part (boxed)"),
}

INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
THRESHOLD = "#8250df"
