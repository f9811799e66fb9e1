"""A small TOML writer for the subset probe files use (tomllib only reads).

Strings, integers, finite and non-finite floats, booleans, arrays and tables; no dates. A table's
plain keys come first, then its sub-tables (`[a.b]`) and arrays of tables (`[[a.b]]`); short
tables and tables inside inline arrays are written inline. Multi-line strings are written as
multi-line basic strings so long prompts stay readable. TOML has no null: `None` values inside
tables are left out (an absent key), and `None` inside an array is an error.

`tomllib.loads(dumps(doc)) == doc` for every document without None (a property test holds it).
"""

from __future__ import annotations

import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
INLINE_WIDTH = 88


class TomlWriteError(ValueError):
    pass


def _key(key: str) -> str:
    if not isinstance(key, str):
        raise TomlWriteError(f"table keys must be strings, not {key!r}")
    return key if _BARE_KEY.match(key) else _basic(key)


def _escape_char(ch: str, multiline: bool) -> str:
    if multiline and ch == "\n":
        return ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\u{code:04x}"
    return ch


def _basic(text: str) -> str:
    return '"' + "".join(_escape_char(c, False) for c in text) + '"'


def _multiline(text: str) -> str:
    # The newline right after the opening quotes is trimmed by TOML readers, so the text keeps
    # its own first character; every quote is escaped, so no run of three can close it early.
    return '"""\n' + "".join(_escape_char(c, True) for c in text) + '"""'


def _string(text: str, inline: bool) -> str:
    if not inline and "\n" in text.rstrip("\n"):
        return _multiline(text)
    return _basic(text)


def _scalar(value: Any, inline: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return _string(value, inline)
    raise TomlWriteError(f"cannot write {type(value).__name__} values in TOML")


def _inline(value: Any, inline: bool = True) -> str:
    if value is None:
        raise TomlWriteError("TOML has no null: a None inside an array cannot be written")
    if isinstance(value, dict):
        items = [f"{_key(k)} = {_inline(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _scalar(value, inline)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _fits_inline(value: Any) -> bool:
    try:
        text = _inline(value)
    except TomlWriteError:
        return False
    return len(text) <= INLINE_WIDTH and "\n" not in text


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    subtables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) and value and (not path or not _fits_inline(value)):
            subtables.append((key, value))
        elif _is_table_array(value) and not _fits_inline(value):
            arrays.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_inline(value, inline=False)}")
    for key, value in subtables:
        header = ".".join(_key(k) for k in [*path, key])
        lines.extend(["", f"[{header}]"])
        _table(lines, [*path, key], value)
    for key, items in arrays:
        header = ".".join(_key(k) for k in [*path, key])
        for item in items:
            lines.extend(["", f"[[{header}]]"])
            _table(lines, [*path, key], item)


def dumps(doc: dict[str, Any], header: str = "") -> str:
    """TOML text for `doc`, optionally preceded by `header` comment lines."""
    if not isinstance(doc, dict):
        raise TomlWriteError("a TOML document is a table")
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    _table(lines, [], doc)
    tidy = [line for i, line in enumerate(lines) if line or (i and lines[i - 1])]
    while tidy and not tidy[0]:
        tidy.pop(0)
    return "\n".join(tidy) + "\n"
