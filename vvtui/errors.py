"""User-facing errors.

Anything a user can cause (a broken config or probe file, a missing key, an unreadable snapshot)
raises a `VvtuiError`. The CLI prints `str(error)` as one line and exits with `exit_code`; no
traceback unless `--debug`. Messages name the place (file, line, key or endpoint) and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class VvtuiError(Exception):
    """An error the user can act on. `str()` is a single line."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        # One line, always: a multi-line message would break the CLI's contract and the UI's toasts.
        return " ".join(text.split())


class ConfigError(VvtuiError):
    """The endpoints config is missing, unparsable or invalid."""


class ProbeError(VvtuiError):
    """A probe file or suite is missing, unparsable or invalid."""


class SnapshotError(VvtuiError):
    """A snapshot file cannot be read or does not match the schema."""


class UsageError(VvtuiError):
    """Bad command-line usage."""


def located(path: str | Path | None, line: int | None, message: str) -> str:
    """Format `path:line: message`, leaving out what is unknown."""
    where = ""
    if path is not None:
        where = str(path)
        if line is not None:
            where += f":{line}"
        where += ": "
    return where + message


def type_name(value: object) -> str:
    """How a TOML/JSON value's type reads in an error message ("an integer", "a table")."""
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true/false",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def suggest(name: str, choices: Iterable[str]) -> str | None:
    """A close match for a mistyped name, phrased for a hint, or None."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean {matches[0]!r}?" if matches else None


def suggest_or_list(name: str, choices: Iterable[str]) -> str:
    """A close match for a mistyped name, else every valid one: a hint always says what to type."""
    options = list(choices)
    return suggest(name, options) or f"one of {', '.join(options)}"
