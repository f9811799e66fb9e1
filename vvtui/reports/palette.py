"""Colours reports use, with their meaning, kept in one place so the HTML report, its charts and
any other front end draw the same thing the same way. Chosen to read on a light background and
in print, and to stay apart for the common colour-vision deficiencies (diffs also differ in
decoration, not colour alone: missing text is struck through, the first divergence is boxed).
"""

from __future__ import annotations

# Verdicts: ink colour and a pale background for badges.
VERDICT = {
    "faithful": ("#1a7f37", "#dafbe1"),
    "degraded": ("#cf222e", "#ffebe9"),
    "inconclusive": ("#9a6700", "#fff8c5"),
    "reference": ("#0969da", "#ddf4ff"),
    "no answers": ("#ffffff", "#6e7781"),
}
UNKNOWN = ("#57606a", "#f6f8fa")

# Probe marks, same scheme.
MARK = {
    "pass": ("#1a7f37", "#dafbe1"),
    "diverged": ("#9a6700", "#fff8c5"),
    "fail": ("#cf222e", "#ffebe9"),
    "error": ("#ffffff", "#6e7781"),
    "pending": ("#57606a", "#f6f8fa"),
}

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
