"""Theme files (TOML, one theme per file) into Textual `Theme` objects.

Shipped themes live in the top-level `themes/` folder; users add theme files to the `themes/`
folder of their config dir, and a user theme with a shipped theme's name replaces it. Every colour
is checked when the file is read, so a typo is reported with its file and key instead of
surfacing later as a CSS error; all bad files are reported together.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from vvtui.errors import suggest

DEFAULT_THEME = "vvtui-dark"

# vvtui's own theme variables, with defaults that read on dark and light backgrounds alike (the
# translucent backgrounds blend with whatever panel they sit on). A theme overrides any of them
# under [variables]; Textual's built-in themes get these.
VARIABLE_DEFAULTS: dict[str, str] = {
    "vv-diff-replace": "#e0823d 45%",
    "vv-diff-insert": "#3d8fe0 45%",
    "vv-diff-missing": "#e5534b",
    "vv-diff-diverge": "#f9c74f",
    "vv-mark-pass": "#4caf50",
    "vv-mark-fail": "#e5534b",
    "vv-mark-diverged": "#f0a63a",
    "vv-mark-error": "#b36ad6",
    "vv-mark-pending": "#7a828c",
    "vv-tool": "#5aa9e6",
}

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "success",
    "warning",
    "error",
)
_FLOAT_KEYS = ("luminosity_spread", "text_alpha")
_META_KEYS = ("description", "author")
_KEYS = ("name", "dark", "variables", *_COLOUR_KEYS, *_FLOAT_KEYS, *_META_KEYS)


class ThemeFileError(ValueError):
    """One bad theme file; the message is one line naming the file and key."""


def _split_opacity(value: str) -> tuple[str, str]:
    """("#e0823d", "45%") from "#e0823d 45%"; a colour alone comes back with ""."""
    colour, opacity = value.strip(), ""
    head, _, tail = colour.rpartition(" ")
    if head and not tail.endswith(")"):
        # A trailing word that is not the end of "rgb(...)" is an opacity.
        colour, opacity = head.strip(), tail
    return colour, opacity


def variable_colour(value: str | None) -> Color | None:
    """The colour of a theme variable's value (its opacity dropped), or None."""
    if not value:
        return None
    try:
        return Color.parse(_split_opacity(value)[0])
    except ColorParseError:
        return None


def check_colour(value: object) -> str | None:
    """None when `value` is a colour Textual accepts (optionally followed by an opacity such as
    "40%"), else the reason it is not."""
    if not isinstance(value, str):
        return f"expected a colour string, got {type(value).__name__}"
    colour, opacity = _split_opacity(value)
    try:
        Color.parse(colour)
    except ColorParseError:
        return f"{value!r} is not a colour (use #rrggbb, rgb(r,g,b) or a colour name)"
    opacity = opacity.strip()
    if opacity:
        number = opacity.removesuffix("%")
        try:
            ok = opacity.endswith("%") and 0 <= float(number) <= 100
        except ValueError:
            ok = False
        if not ok:
            return f"{value!r}: the opacity after the colour must be a percentage like 40%"
    return None


def parse_theme(data: dict[str, Any], source: str) -> Theme:
    """A Theme from a theme file's table; raises ThemeFileError naming `source` and the key."""

    def fail(message: str) -> ThemeFileError:
        return ThemeFileError(f"{source}: {message}")

    for key in data:
        if key not in _KEYS:
            hint = suggest(key, _KEYS)
            raise fail(f"unknown key {key!r}" + (f" ({hint})" if hint else ""))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail('missing `name` (e.g. name = "my-theme")')
    if "primary" not in data:
        raise fail("missing `primary` (the main accent colour)")
    kwargs: dict[str, Any] = {"name": name.strip()}
    for key in _COLOUR_KEYS:
        if key in data:
            problem = check_colour(data[key])
            if problem:
                raise fail(f"{key}: {problem}")
            kwargs[key] = data[key]
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise fail("dark: expected true or false")
    kwargs["dark"] = dark
    for key in _FLOAT_KEYS:
        if key in data:
            if not isinstance(data[key], int | float) or isinstance(data[key], bool):
                raise fail(f"{key}: expected a number")
            kwargs[key] = float(data[key])
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise fail("[variables] must be a table of name = value")
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if not isinstance(value, str):
            raise fail(f"variables.{key}: expected a string")
        if key.startswith("vv-"):
            if key not in VARIABLE_DEFAULTS:
                hint = suggest(key, VARIABLE_DEFAULTS)
                raise fail(f"unknown variable {key!r}" + (f" ({hint})" if hint else ""))
            problem = check_colour(value)
            if problem:
                raise fail(f"variables.{key}: {problem}")
        checked[key] = value
    kwargs["variables"] = checked
    return Theme(**kwargs)


def load_theme_file(path: Path) -> Theme:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{path}: not valid TOML ({exc})") from None
    return parse_theme(data, str(path))


@dataclass
class ThemeLoad:
    themes: dict[str, Theme] = field(default_factory=dict)
    # Where each theme came from (for the help screen).
    sources: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def load_themes(folders: Iterable[Path | None]) -> ThemeLoad:
    """Every `*.toml` in `folders`, in order (later folders override earlier ones by name)."""
    out = ThemeLoad()
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                out.errors.append(str(exc))
                continue
            out.themes[theme.name] = theme
            out.sources[theme.name] = path
    return out


def shipped_themes_dir() -> Path:
    from vvtui.resources import data_dir

    return data_dir("themes")


def user_themes_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("vvtui", appauthor=False) / "themes"


def resolve_theme(requested: str | None, available: Iterable[str]) -> tuple[str, str | None]:
    """The theme to use for `requested` and, when it does not exist, a notice saying so."""
    names = list(available)
    if not requested or requested in names:
        return (requested or DEFAULT_THEME), None
    fallback = DEFAULT_THEME if DEFAULT_THEME in names else "textual-dark"
    hint = suggest(requested, names)
    notice = f"theme {requested!r} not found, using {fallback!r}" + (f" ({hint})" if hint else "")
    return fallback, notice
