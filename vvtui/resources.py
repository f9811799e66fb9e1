"""Where the shipped data lives: inside the wheel (vvtui/_data) or, in a source checkout, at the
top of the repository where people read and edit it."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped `probes` or `themes` folder."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
