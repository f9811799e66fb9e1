"""How the CLI reaches the TUI: a broken config gets a readable screen (not a traceback) when the
TUI was asked for, and what was gathered survives leaving the app in any way."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.conftest import TEST_SPEED
from tests.tuitools import sim_app, wait_until
from vvtui.cli import main as cli_main
from vvtui.cli import run_cmd
from vvtui.errors import ConfigError, ProbeError
from vvtui.sim.profiles import default_profiles
from vvtui.storage import load_snapshot
from vvtui.tui import keep_results
from vvtui.tui.screens.error import ErrorApp, ErrorScreen


def args(headless: bool) -> argparse.Namespace:
    return argparse.Namespace(headless=headless)


def broken() -> None:
    raise ConfigError("/tmp/c.toml:5: unknown key 'refrence'", hint="did you mean 'reference'?")


def test_headless_keeps_the_one_line_error(monkeypatch) -> None:
    monkeypatch.setattr(run_cmd, "_wants_tui", lambda a: False)
    with pytest.raises(ConfigError):
        run_cmd._prepared(args(True), broken)


def test_the_tui_shows_a_broken_config_on_a_screen(monkeypatch) -> None:
    shown = []
    monkeypatch.setattr(run_cmd, "_wants_tui", lambda a: True)
    monkeypatch.setattr("vvtui.tui.show_error", lambda exc: shown.append(exc) or 2)
    assert run_cmd._prepared(args(False), broken) == 2
    assert isinstance(shown[0], ConfigError)
    assert run_cmd._prepared(args(False), lambda: ("plan", "info")) == ("plan", "info")


async def test_error_screen_reads_well_and_quits_with_the_error_code() -> None:
    app = ErrorApp(ProbeError("probes/x.toml:3: unknown check type 'exactly'"))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "A probe suite cannot be used" in text
        assert "probes/x.toml:3: unknown check type 'exactly'" in text
        assert "vvtui probes validate" in text
        await pilot.press("q")
    assert app.return_value == 2


def test_view_needs_a_terminal(tmp_path: Path, capsys) -> None:
    # pytest's stdout is not a terminal: a one-line error, exit 2, no traceback.
    assert cli_main(["view", str(tmp_path / "none.json")]) == 2
    assert "needs a terminal" in capsys.readouterr().err


async def test_leaving_mid_run_keeps_what_was_gathered(sim_server_factory, tmp_path: Path) -> None:
    profiles = default_profiles(TEST_SPEED / 10)[:2]
    server = sim_server_factory(profiles)
    # Every suite: the run (in its own process) cannot finish while the app closes.
    app = sim_app(server, profiles, tmp_path, suites=["all"])
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.controller.model.done >= 2)
        app.exit(0)  # as a second `q` does: leave at once
    controller = app.controller
    assert controller.unsaved
    keep_results(app, controller)
    (saved,) = (tmp_path / "exports").glob("vvtui-*.json")
    snap = load_snapshot(saved)
    assert not snap.run.complete and len(snap.results) >= 2 and snap.scores


async def test_a_crash_report_is_redacted_and_shows_no_locals(tmp_path: Path, capsys) -> None:
    from tests.tuitools import replay_app
    from vvtui.redact import forget_all, remember

    forget_all()
    secret = "sk-crash-abcdefghijklmnop5678"
    remember(secret)
    app = replay_app(tmp_path)
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            headers = {"authorization": f"Bearer {secret}"}  # a local Textual would print
            try:
                raise RuntimeError(f"upstream said {headers}")
            except RuntimeError as exc:
                app._handle_exception(exc)
            await pilot.pause()
    report = capsys.readouterr().err
    assert "Traceback" in report and "RuntimeError: upstream said" in report
    assert "[REDACTED]" in report and secret not in report
    assert "─ locals ─" not in report and "headers = {" not in report  # no locals panel
    assert app.return_code == 1
    forget_all()
