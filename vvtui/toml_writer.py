"""The one TOML writer of the project (tomllib only reads): probe suites written by the K2VV
import, configs written by `vvtui openrouter endpoints --write-config` and `vvtui local up`.

Strings, integers, finite and non-finite floats, booleans, arrays and tables; no dates. A table's
plain keys come first, then its sub-tables (`[a.b]`) and arrays of tables (`[[a.b]]`); short
tables and tables inside inline arrays are written inline. Strings are written as literal
strings ('...', no escapes) whenever their text allows, else as basic strings; text with line
breaks becomes a multi-line string so long prompts stay readable. TOML has no null: `None`
values inside tables are left out (an absent key), and `None` inside an array is an error.

`tomllib.loads(dumps(doc)) == doc` for every document without None (a property test holds it).
Written for large imports too (K2VV's set is tens of MB): escaping is one regex pass per string
and deciding whether a table fits inline stops as soon as it is clearly too big.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_NEEDS_ESCAPE_ML = re.compile(r'[\x00-\x09\x0b-\x1f\x7f"\\]')
# Literal strings need no escapes: they read better (JSON in a prompt stays as written) and
# tomllib parses them much faster. They cannot hold control characters (tab aside) nor their
# own quote.
_LITERAL_BAD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f']")
_LITERAL_ML_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|'''")
INLINE_WIDTH = 88


class TomlWriteError(TypeError, ValueError):
    """A value TOML cannot hold (None inside an array, an object): a type and a value problem."""


def _key(key: str) -> str:
    if not isinstance(key, str):
        raise TomlWriteError(f"table keys must be strings, not {key!r}")
    return key if _BARE_KEY.fullmatch(key) else _basic(key)


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def _basic(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _multiline(text: str) -> str:
    # A newline right after the opening delimiter is trimmed by TOML readers, so the text keeps
    # its own first character. A literal string may not end in its quote character.
    if not _LITERAL_ML_BAD.search(text) and not text.endswith("'"):
        return "'''\n" + text + "'''"
    # In the basic form every double quote is escaped, so no run of three closes it early.
    return '"""\n' + _NEEDS_ESCAPE_ML.sub(_escape, text) + '"""'


def _string(text: str, inline: bool) -> str:
    if not inline and "\n" in text.rstrip("\n"):
        return _multiline(text)
    if _NEEDS_ESCAPE.search(text) and not _LITERAL_BAD.search(text):
        return "'" + text + "'"
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


def _budget_left(value: Any, budget: int) -> int:
    """`budget` minus a lower bound of `value`'s inline size; negative means too big. Stops
    early, so rejecting a large structure costs little."""
    if isinstance(value, dict):
        for k, v in value.items():
            budget = _budget_left(v, budget - len(k) - 5)
            if budget < 0:
                return budget
        return budget - 4
    if isinstance(value, list | tuple):
        for v in value:
            budget = _budget_left(v, budget - 2)
            if budget < 0:
                return budget
        return budget - 2
    if isinstance(value, str):
        return budget - len(value) - 2
    return budget - 4


def _fits_inline(value: Any) -> bool:
    if _budget_left(value, INLINE_WIDTH) < 0:
        return False
    try:
        text = _inline(value)
    except TomlWriteError:
        return False
    return len(text) <= INLINE_WIDTH and "\n" not in text


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


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


def check_writable(value: Any) -> None:
    """Raise TomlWriteError if `dumps` would refuse `value` (a None inside an array, a value
    of another type), without building any text."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TomlWriteError(f"table keys must be strings, not {k!r}")
            if v is not None:
                check_writable(v)
    elif isinstance(value, list | tuple):
        for v in value:
            if v is None:
                raise TomlWriteError("TOML has no null: a None inside an array cannot be written")
            check_writable(v)
    elif not isinstance(value, str | int | float | bool):
        raise TomlWriteError(f"cannot write {type(value).__name__} values in TOML")


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


# --------------------------------------------------------------------------------------------
# Line-by-line building blocks, for generated files that interleave comments with tables.


def format_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    return _key(key)


def format_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return _basic(text)


def format_value(value: Any) -> str:
    """One TOML value on one line. Raises TomlWriteError (a TypeError) for what TOML cannot hold."""
    if isinstance(value, Mapping) and not isinstance(value, dict):
        value = dict(value)
    return _inline(value)


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
