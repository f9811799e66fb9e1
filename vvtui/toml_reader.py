"""Reading the project's TOML files (the config, probe suites) with line numbers in errors.

`parse_toml` raises a syntax error as the project's one-line `file:line: not valid TOML: ...`.
tomllib returns plain dicts without positions, so `Locator` scans the raw text for the line of a
table and of a key inside it: the Nth `[[probe]]` and a key path in it (`checks`, 2,
`pattern`), or a key of the Nth `[[endpoint]]`. It knows multi-line strings, so a prompt that
happens to contain a line like `[[probe]]` does not shift every later probe.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vvtui.errors import located


def parse_toml(
    text: str, path: str | Path | None, error: Callable[[str], Exception]
) -> dict[str, Any]:
    """`tomllib.loads(text)`; a syntax error is raised as `error("file:line: not valid TOML:
    what")` (the position tomllib appends to its message becomes the line in front)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise error(located(path, line, f"not valid TOML: {msg}")) from None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?$")


def _norm(header: str) -> str:
    parts = [p.strip().strip("\"'") for p in header.split(".")]
    return ".".join(parts)


def _key_pattern(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"^\s*(\"{k}\"|'{k}'|{k})\s*(=|\.)|[{{,]\s*(\"{k}\"|{k})\s*=")


class Locator:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (0-based line index, normalized header, is array-of-tables)
        self.headers: list[tuple[int, str, bool]] = []
        self._code: list[bool] = []  # False for lines inside a multi-line string
        state: str | None = None
        for i, line in enumerate(self.lines):
            self._code.append(state is None)
            if state is None and line.lstrip().startswith("["):
                m = _HEADER.match(line)
                if m:
                    self.headers.append((i, _norm(m.group(2)), m.group(1) == "[["))
            if '"""' not in line and "'''" not in line:
                continue  # the common case: no multi-line string opens or closes here
            pos = 0
            while True:
                hits = [(line.find(d, pos), d) for d in ('"""', "'''")]
                hits = [(at, d) for at, d in hits if at >= 0]
                if not hits:
                    break
                at, delim = min(hits)
                if state is None:
                    state = delim
                elif state == delim:
                    state = None
                pos = at + 3

    def _span_end(self, start: int, prefix: str) -> int:
        """End (exclusive) of the table starting at header line `start`: the next header that is
        not a sub-table of `prefix`."""
        for i, name, _ in self.headers:
            if i <= start:
                continue
            if not name.startswith(prefix + "."):
                return i
        return len(self.lines)

    def _sub_span_end(self, start: int, outer_end: int) -> int:
        for i, _, _ in self.headers:
            if start < i < outer_end:
                return i
        return outer_end

    def probe_lines(self) -> list[int]:
        """1-based line of every `[[probe]]` header, in file order."""
        return [i + 1 for i, name, array in self.headers if array and name == "probe"]

    def table_line(self, header: str) -> int | None:
        for i, name, _ in self.headers:
            if name == header:
                return i + 1
        return None

    def line(self, header: str | None, index: int, key: str | None) -> int | None:
        """The line of `key` in the `index`th table named `header` (`[header]` or
        `[[header]]`; the whole file when None), the table's own line when `key` is None or
        not found there; None when there is no such table."""
        if header is None:
            start, end = 0, len(self.lines)
        else:
            starts = [i for i, name, _ in self.headers if name == header]
            if index >= len(starts):
                return None
            start = starts[index]
            end = self._span_end(start, header)
        found = self._key_line(start, end, key) if key is not None else None
        return (found if found is not None else start) + 1

    def find(self, table: str, index: int | None, path: Sequence[str | int]) -> int | None:
        """The line of `path` inside the `index`th `[[table]]` (or the `[table]` when index is
        None). Falls back to the closest enclosing line found."""
        want_array = index is not None
        starts = [i for i, name, arr in self.headers if name == table and arr == want_array]
        k = index or 0
        if k >= len(starts):
            return None
        start = starts[k]
        end = self._span_end(start, table)
        best = start
        prefix = table
        i = 0
        while i < len(path):
            key = path[i]
            if not isinstance(key, str):
                break
            sub = f"{prefix}.{key}"
            nxt = path[i + 1] if i + 1 < len(path) else None
            if isinstance(nxt, int):
                subs = self._headers_in(start, end, sub, array=True)
                if nxt < len(subs):
                    start = subs[nxt]
                    end = self._span_end(start, sub)
                    best, prefix = start, sub
                    i += 2
                    continue
                line = self._key_line(start, end, key)
                return (line if line is not None else best) + 1
            tables = self._headers_in(start, end, sub, array=False)
            if tables:
                start = tables[0]
                end = self._span_end(start, sub)
                best, prefix = start, sub
                i += 1
                continue
            line = self._key_line(start, min(end, self._sub_span_end(start, end)), key)
            if line is None:
                line = self._key_line(start, end, key)
            return (line if line is not None else best) + 1
        return best + 1

    def _headers_in(self, start: int, end: int, header: str, *, array: bool) -> list[int]:
        return [
            j
            for j, name, arr in self.headers
            if start < j < end and name == header and arr == array
        ]

    def _key_line(self, start: int, end: int, key: str) -> int | None:
        pattern = _key_pattern(key)
        for j in range(start, end):
            if self._code[j] and pattern.search(self.lines[j]):
                return j
        return None
