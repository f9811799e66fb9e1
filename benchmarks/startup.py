"""Start-up: `vvtui --help` wall time, and the first frame of `vvtui demo`'s TUI.

Both in fresh interpreters, timed from the parent (process start to the output), medians of
several runs; `python -c pass` is timed alongside as the interpreter's own floor.
The first frame: the demo's path (simulator child process, probe suites, plan, app) under
Textual's test driver, until the app reports ready with its first screen composed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FIRST_FRAME = """
import asyncio, tempfile, time
from pathlib import Path
from vvtui.runner.plan import build_plan
from vvtui.sim.demo import demo_setup
from vvtui.tui.app import AppOptions, VvtuiApp
from vvtui.tui.controller import RunController, RunSpec
from vvtui.tui.themes import shipped_themes_dir

async def main():
    server, config = demo_setup(speed=1.0)
    try:
        plan, info = build_plan(config, suites=["all"], seed=7, command="demo")
        with tempfile.TemporaryDirectory() as tmp:
            controller = RunController(spec=RunSpec(plan, info), export_dir=Path(tmp))
            app = VvtuiApp(controller, AppOptions(export_dir=Path(tmp),
                                                  theme_dirs=[shipped_themes_dir()]))
            async with app.run_test(size=(200, 50)) as pilot:
                await pilot.pause()
                print("frame", flush=True)
                controller.cancel()
                await controller.wait()
    finally:
        server.stop()

asyncio.run(main())
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _time(args: list[str], marker: str | None = None, timeout: float = 120.0) -> float:
    """Seconds from spawning `args` to its exit, or to the line `marker` when given."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    elapsed = None
    try:
        if marker is not None:
            for line in proc.stdout:
                if line.strip() == marker:
                    elapsed = time.perf_counter() - started
                    break
        proc.stdout.read()
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}")
    return elapsed if elapsed is not None else time.perf_counter() - started


def run(quick: bool = False) -> dict[str, float]:
    n = 5 if quick else 11
    floor = [_time([sys.executable, "-c", "pass"]) for _ in range(n)]
    helps = [_time([sys.executable, "-m", "vvtui", "--help"]) for _ in range(n)]
    frames = [
        _time([sys.executable, "-c", _FIRST_FRAME], marker="frame")
        for _ in range(1 if quick else 5)
    ]
    keys = {
        "python_ms": 1000 * statistics.median(floor),
        "help_ms": 1000 * statistics.median(helps),
        "first_frame_ms": 1000 * statistics.median(frames),
    }
    print(f"  python -c pass        {keys['python_ms']:7.0f} ms  (median of {n})")
    print(f"  vvtui --help          {keys['help_ms']:7.0f} ms  (median of {n})")
    print(
        f"  vvtui demo 1st frame  {keys['first_frame_ms']:7.0f} ms  (median of {len(frames)}; "
        "simulator start, suites, plan, app)"
    )
    return keys


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
