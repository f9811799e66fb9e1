"""Word wrapping that grows with the text: appending re-wraps only the last line.

A pane receives its answer a token at a time; re-wrapping the whole answer per token would make
each append cost O(answer). `WrapIndex` keeps the wrapped lines as (start, end) offsets into the
text and, on `update`, re-wraps from the start of the last line only. Greedy wrapping is
prefix-stable once a line is closed: a line closes only when the character after its last cell is
known (or a newline ends it), so later text can never change it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def char_cells(ch: str) -> int:
    """Terminal cells one character takes: 2 for wide (CJK) characters, 0 for combining marks,
    1 otherwise (control characters are shown as one placeholder cell)."""
    if ch < " ":
        return 1
    if ch < "\u0300":
        return 1
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


class WrapIndex:
    """Wrapped lines of a growing text, for one width."""

    __slots__ = ("lines", "width")

    def __init__(self, width: int) -> None:
        self.width = max(1, width)
        # (start, end) of each visual line; `end` excludes a line's trailing newline and the
        # space a line was broken at.
        self.lines: list[tuple[int, int]] = []

    def update(self, text: str) -> int:
        """Wrap text appended since the last call; returns the index of the first line that
        changed (lines before it are untouched)."""
        if not self.lines:
            start = 0
            first = 0
        else:
            first = len(self.lines) - 1
            start = self.lines.pop()[0]
        self.lines.extend(wrap_from(text, start, self.width))
        return first

    def reset(self, width: int) -> None:
        self.width = max(1, width)
        self.lines = []


def wrap_from(text: str, start: int, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap of `text[start:]` into lines of at most `width` cells.

    Breaks after the last space that fits, else mid-word; a newline always ends a line. The last
    line returned is the open one (it may grow when text is appended). Always returns at least
    one line, possibly empty.
    """
    if start >= len(text) or max(text[start:]) < "\u0300":
        return _wrap_narrow(text, start, width)
    return _wrap_cells(text, start, width)


def _wrap_cells(text: str, start: int, width: int) -> list[tuple[int, int]]:
    """`wrap_from` a character at a time, counting each one's cells."""
    lines: list[tuple[int, int]] = []
    n = len(text)
    line_start = start
    i = start
    cells = 0
    last_space = -1  # index of the last space on the current line
    while i < n:
        ch = text[i]
        if ch == "\n":
            lines.append((line_start, i))
            i += 1
            line_start, cells, last_space = i, 0, -1
            continue
        w = char_cells(ch)
        if cells + w > width and i > line_start:
            if ch == " ":
                # The space at the break is swallowed, so the next line starts with a word.
                lines.append((line_start, i))
                i += 1
            elif last_space >= line_start:
                lines.append((line_start, last_space))
                i = last_space + 1
            else:
                lines.append((line_start, i))
            line_start, cells, last_space = i, 0, -1
            continue
        if ch == " ":
            last_space = i
        cells += w
        i += 1
    lines.append((line_start, n))
    return lines


def _wrap_narrow(text: str, start: int, width: int) -> list[tuple[int, int]]:
    """`wrap_from` for text whose every character takes one cell (nothing from U+0300 up, where
    combining and wide characters begin): lines are found with `find` and `rfind` rather than
    a character at a time. A pane re-wraps a whole answer when it is shown, 16 at a time when a
    followed run moves to the next probe."""
    lines: list[tuple[int, int]] = []
    n = len(text)
    line_start = start
    while True:
        newline = text.find("\n", line_start)
        stop = n if newline < 0 else newline  # the end of this paragraph
        while stop - line_start > width:
            # The cell after the line's last is text[line_start + width]: a space there ends the
            # line (and is swallowed), else the last space that fits does, else the word is cut.
            edge = line_start + width
            space = text.rfind(" ", line_start, edge + 1)
            if space < 0:
                lines.append((line_start, edge))
                line_start = edge
            else:
                lines.append((line_start, space))
                line_start = space + 1
        if newline < 0:
            lines.append((line_start, n))
            return lines
        lines.append((line_start, newline))
        line_start = newline + 1
