"""Frames of the divergence inspector, compare mode and small terminals (pytest-textual-snapshot;
update with `pytest tests/test_tui_snapshots_focus.py --snapshot-update` and look at them).

They replay tests/data/tui/quick-ladder-logprobs.json (the simulated ladder with top-k logprobs):
no timing, no network. The probe shown is the int4 endpoint's real divergence on copying digits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tuitools import replay_app
from vvtui.storage import load_snapshot

FIXTURE = Path(__file__).parent / "data" / "tui" / "quick-ladder-logprobs.json"
PROBE = "quant-copy-digits"
INT4 = "4"  # int4's pane number in the ladder


def app(tmp_path: Path):
    return replay_app(tmp_path, load_snapshot(FIXTURE))


def at_probe(*keys: str):
    async def run_before(pilot) -> None:
        pilot.app.screen._show_probe(PROBE)
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)])
def test_inspector_on_int4(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app(tmp_path), terminal_size=size, run_before=at_probe(INT4, "i"))


def test_ladder_at_80x24_shows_two_answers(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path), terminal_size=(80, 24), run_before=at_probe())


def test_compact_scoreboard_at_80x24(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path), terminal_size=(80, 24), run_before=at_probe("B"))


def test_compare_int4_with_the_reference(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(app(tmp_path), terminal_size=(120, 36), run_before=at_probe(INT4, "x"))
