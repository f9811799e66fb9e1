"""What the TUI remembers between sessions (the chosen theme, how the scoreboard is shown), in a
small JSON state file.

The config's `[ui] theme` is the default; a theme picked in the TUI is remembered and wins over
it, until the config's value is changed again (an edit to the config is a newer decision than a
pick made before it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from vvtui.storage import write_atomic


def default_state_path() -> Path:
    from platformdirs import user_state_path

    return user_state_path("vvtui", appauthor=False) / "tui.json"


BOARD_MODES = ("full", "compact", "hidden")


@dataclass
class Prefs:
    theme: str | None = None
    # The config's [ui] theme when `theme` was picked.
    config_theme: str | None = None
    # The scoreboard: "full" (a table), "compact" (one line per endpoint) or "hidden".
    board: str | None = None


def load_prefs(path: Path | None) -> Prefs:
    """The saved prefs; an unreadable or malformed file counts as none (it is only a memory)."""
    if path is None:
        return Prefs()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Prefs()
    if not isinstance(data, dict):
        return Prefs()
    theme, config_theme = data.get("theme"), data.get("config_theme")
    board = data.get("board")
    return Prefs(
        theme=theme if isinstance(theme, str) else None,
        config_theme=config_theme if isinstance(config_theme, str) else None,
        board=board if board in BOARD_MODES else None,
    )


def save_prefs(path: Path | None, prefs: Prefs) -> None:
    if path is not None:
        write_atomic(path, json.dumps(asdict(prefs), indent=1) + "\n")


def initial_theme(config_theme: str | None, prefs: Prefs) -> str | None:
    """The theme to start with: a remembered pick, unless the config changed since it."""
    if prefs.theme and prefs.config_theme == config_theme:
        return prefs.theme
    return config_theme or prefs.theme
