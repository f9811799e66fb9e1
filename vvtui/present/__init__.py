"""How a score reads, for every front end: number formatting (`fmt`), the scoreboard's columns
(`columns`) and the marks' and verdicts' glyphs and style names (`styles`).

Textual-free and httpx-free, so the TUI, the reports and the terminal tables share it; and light
to import (the scoring core loads only when a row is built from a stored report), so `vvtui
--help` stays fast.
"""
