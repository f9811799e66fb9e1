"""Helpers for the TUI tests: building an app on the simulator or on a saved snapshot, and
waiting on a condition without sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vvtui.cli.exports import markdown_report
from vvtui.model import Snapshot
from vvtui.runner.plan import build_plan
from vvtui.sim.ladder import ladder_config
from vvtui.sim.profiles import Profile
from vvtui.storage import load_snapshot
from vvtui.tui.app import AppOptions, VvtuiApp
from vvtui.tui.controller import RunController, RunSpec
from vvtui.tui.themes import shipped_themes_dir

FIXTURE = Path(__file__).parent / "data" / "tui" / "quick-ladder.json"
# Seven deterministic probes, one of each kind: a run against the simulator takes seconds.
MINI = str(Path(__file__).parent / "data" / "tui" / "mini.toml")


async def wait_until(
    pilot: Any, predicate: Callable[[], bool], timeout: float = 30.0, step: float = 0.05
) -> None:
    """Poll `predicate` while the app runs; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        await pilot.pause(step)


def options(tmp_path: Path, **kw: Any) -> AppOptions:
    return AppOptions(
        export_dir=tmp_path / "exports",
        theme_dirs=[shipped_themes_dir()],
        state_path=kw.pop("state_path", None),
        follow_dwell_s=kw.pop("follow_dwell_s", 0.0),
        **kw,
    )


def sim_app(
    server: Any,
    profiles: Sequence[Profile],
    tmp_path: Path,
    *,
    suites: Sequence[str] = ("quick",),
    out: Path | None = None,
    until_decided: Any = None,
    **opts: Any,
) -> VvtuiApp:
    """The TUI on a run of `suites` against simulated `profiles` served by `server`
    (`until_decided`: a StoppingRule)."""
    config = ladder_config(server.url, list(profiles))
    plan, info = build_plan(
        config, suites=list(suites), seed=7, command="test", until_decided=until_decided
    )
    controller = RunController(
        spec=RunSpec(plan, info), out=out, export_dir=tmp_path / "exports", report=markdown_report
    )
    return VvtuiApp(controller, options(tmp_path, **opts))


def fixture_snapshot() -> Snapshot:
    return load_snapshot(FIXTURE)


def replay_app(tmp_path: Path, snapshot: Snapshot | None = None, **opts: Any) -> VvtuiApp:
    """The TUI on a saved run (no requests, no timing: deterministic frames)."""
    controller = RunController(
        snapshot=snapshot or fixture_snapshot(),
        export_dir=tmp_path / "exports",
        report=markdown_report,
    )
    return VvtuiApp(controller, options(tmp_path, **opts))


def finished(app: VvtuiApp) -> bool:
    c = app.controller
    return not c.running and c.snapshot is not None and bool(c.snapshot.scores)
