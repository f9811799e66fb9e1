"""A small TOML emitter: the subset vvtui writes (strings, numbers, booleans, arrays, inline tables,
arrays of tables, comments).

Python's standard library reads TOML (tomllib) but cannot write it; the configs vvtui generates
(`vvtui openrouter endpoints --write-config`) need only this subset, and every value goes out in a
form tomllib reads back to the same Python value (a property test checks that).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def format_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    if not isinstance(key, str):
        raise TypeError(f"TOML keys are strings, not {type(key).__name__}")
    return key if _BARE_KEY.match(key) else format_string(key)


def format_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def format_value(value: Any) -> str:
    """One TOML value on one line. Raises TypeError for what TOML cannot hold (None, objects)."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        # repr() is the shortest text that round-trips; it always carries '.', 'e' or both.
        return repr(value)
    if isinstance(value, str):
        return format_string(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = ", ".join(f"{format_key(k)} = {format_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        raise TypeError("TOML has no null: leave the key out instead")
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def format_comment(text: str) -> list[str]:
    """Comment lines for `text` (one `#` line per input line)."""
    return [f"# {line}".rstrip() for line in text.splitlines()] or ["#"]


def table_lines(
    header: str, values: Mapping[str, Any], *, array: bool = False, comments: Iterable[str] = ()
) -> list[str]:
    """`[header]` (or `[[header]]` with array=True) then `key = value` lines.

    `comments` go above the header. Values that are None are left out (TOML has no null).
    """
    lines = [line for text in comments for line in format_comment(text)]
    name = ".".join(format_key(part) for part in header.split("."))
    lines.append(f"[[{name}]]" if array else f"[{name}]")
    for key, value in values.items():
        if value is not None:
            lines.append(f"{format_key(key)} = {format_value(value)}")
    return lines


def join_blocks(blocks: Iterable[Sequence[str]]) -> str:
    """A document from blocks of lines (comments, tables), one blank line between blocks."""
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
