"""Where the shipped data lives: inside the wheel (vvtui/_data) or, in a source checkout, at the
top of the repository where people read and edit it."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped `probes` or `themes` folder."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def child_env() -> dict[str, str]:
    """The environment for a vvtui child interpreter (`python -m vvtui....`): this one's, with
    this copy of vvtui first on the path so a source checkout runs itself, not an install."""
    env = dict(os.environ)
    root = str(_PACKAGE.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env
