"""Theme files, the remembered theme, and the [keymap] check."""

from __future__ import annotations

from pathlib import Path

import pytest

from vvtui.tui.keymap import check_keymap, keys_for
from vvtui.tui.prefs import Prefs, initial_theme, load_prefs, save_prefs
from vvtui.tui.themes import (
    DEFAULT_THEME,
    VARIABLE_DEFAULTS,
    ThemeFileError,
    check_colour,
    load_theme_file,
    load_themes,
    parse_theme,
    resolve_theme,
    shipped_themes_dir,
)


def test_shipped_themes_are_valid_and_include_a_light_one() -> None:
    loaded = load_themes([shipped_themes_dir()])
    assert loaded.errors == []
    assert len(loaded.themes) >= 3
    assert DEFAULT_THEME in loaded.themes
    assert any(not t.dark for t in loaded.themes.values())
    for theme in loaded.themes.values():
        # Every shipped theme styles every vvtui element itself.
        assert set(VARIABLE_DEFAULTS) <= set(theme.variables), theme.name


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("#12ab34", True),
        ("rgb(1, 2, 3)", True),
        ("red", True),
        ("#e0823d 45%", True),
        ("#zzzzzz", False),
        ("#e0823d 145%", False),
        ("#e0823d half", False),
        (12, False),
    ],
)
def test_colours_are_checked(value: object, ok: bool) -> None:
    assert (check_colour(value) is None) is ok


def test_every_bad_file_is_reported_and_good_ones_still_load(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text('name = "mine"\nprimary = "#336699"\ndark = false\n')
    (tmp_path / "typo.toml").write_text('name = "t"\nprimery = "#336699"\n')
    (tmp_path / "colour.toml").write_text('name = "c"\nprimary = "#33669"\n')
    (tmp_path / "var.toml").write_text(
        'name = "v"\nprimary = "#336699"\n[variables]\nvv-diff-replce = "#ffffff"\n'
    )
    (tmp_path / "broken.toml").write_text('name = "b\n')
    loaded = load_themes([tmp_path])
    assert list(loaded.themes) == ["mine"]
    assert not loaded.themes["mine"].dark
    errors = "\n".join(loaded.errors)
    assert len(loaded.errors) == 4
    assert "typo.toml: unknown key 'primery' (did you mean 'primary'?)" in errors
    assert "colour.toml: primary:" in errors
    assert "did you mean 'vv-diff-replace'?" in errors
    assert "broken.toml: not valid TOML" in errors


def test_user_theme_overrides_shipped_one_by_name(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(f'name = "{DEFAULT_THEME}"\nprimary = "#010203"\n')
    loaded = load_themes([shipped_themes_dir(), tmp_path])
    assert loaded.themes[DEFAULT_THEME].primary == "#010203"
    assert loaded.sources[DEFAULT_THEME] == tmp_path / "x.toml"


def test_parse_theme_requires_name_and_primary() -> None:
    with pytest.raises(ThemeFileError, match="missing `name`"):
        parse_theme({"primary": "#000000"}, "f.toml")
    with pytest.raises(ThemeFileError, match="missing `primary`"):
        parse_theme({"name": "n"}, "f.toml")


def test_unreadable_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(ThemeFileError, match=r"nope\.toml: cannot read"):
        load_theme_file(tmp_path / "nope.toml")


def test_unknown_theme_falls_back_with_a_notice() -> None:
    names = [DEFAULT_THEME, "vvtui-light", "textual-dark"]
    assert resolve_theme("vvtui-light", names) == ("vvtui-light", None)
    assert resolve_theme(None, names) == (DEFAULT_THEME, None)
    name, notice = resolve_theme("vvtui-lihgt", names)
    assert name == DEFAULT_THEME
    assert notice is not None and "did you mean 'vvtui-light'?" in notice


def test_prefs_round_trip_and_tolerate_garbage(tmp_path: Path) -> None:
    path = tmp_path / "state" / "tui.json"
    assert load_prefs(path) == Prefs()
    save_prefs(path, Prefs("vvtui-light", config_theme=None))
    assert load_prefs(path) == Prefs("vvtui-light", None)
    path.write_text("{not json")
    assert load_prefs(path) == Prefs()


def test_a_pick_wins_until_the_config_changes() -> None:
    assert initial_theme(None, Prefs()) is None
    assert initial_theme("a", Prefs()) == "a"
    assert initial_theme(None, Prefs("picked", None)) == "picked"
    # Picked while the config said "a": the pick stands.
    assert initial_theme("a", Prefs("picked", "a")) == "picked"
    # The config was edited since: the newer decision wins.
    assert initial_theme("b", Prefs("picked", "a")) == "b"


def test_keymap_check_names_unknown_ids() -> None:
    good, problems = check_keymap({"rerun": "ctrl+r", "rerum": "x", "quit": " "}, ["rerun", "quit"])
    assert good == {"rerun": "ctrl+r"}
    assert problems[0] == "[keymap] 'rerum': no such binding (did you mean 'rerun'?)"
    assert "empty key" in problems[1]


def test_keys_for_applies_the_keymap() -> None:
    from textual.binding import Binding

    binding = Binding("f1,question_mark", "help", "Help", id="help")
    assert keys_for(binding, {}) == "f1 / ?"
    assert keys_for(binding, {"help": "h"}) == "h"


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from textual.binding import Binding

    from vvtui.tui.app import VvtuiApp
    from vvtui.tui.screens.error import ErrorScreen
    from vvtui.tui.screens.help import HelpScreen
    from vvtui.tui.screens.main import MainScreen
    from vvtui.tui.screens.unsaved import UnsavedScreen

    ids = []
    for owner in (VvtuiApp, MainScreen, HelpScreen, UnsavedScreen, ErrorScreen):
        for b in owner.BINDINGS:
            assert isinstance(b, Binding) and b.id and b.tooltip, (owner.__name__, b)
            ids.append(b.id)
    assert len(ids) == len(set(ids))
    for required in ("rerun", "cancel", "export", "screenshot", "theme", "diff", "quit", "help"):
        assert required in ids
