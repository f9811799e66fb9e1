"""Start-up: `vvtui --help` wall time, and the first frame of `vvtui demo`'s TUI.

Both in fresh interpreters, timed from the parent (process start to the output), medians of
several runs; `python -c pass` is timed alongside as the interpreter's own floor.
The first frame: the demo's own path (`vvtui.cli.run_cmd.demo_preparer`, `vvtui.tui.prepared_app`)
under Textual's test driver, until the app's first screen is up; then until the run's screen is
(the simulator started, the suites loaded, the plan made, behind the first screen).
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
from vvtui.cli import build_parser
from vvtui.cli.run_cmd import demo_preparer
from vvtui.tui import prepared_app

async def main():
    # `vvtui demo`'s own arguments, defaults and all, so new options cannot leave this behind.
    args = build_parser().parse_args(["demo"])
    servers = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = prepared_app(demo_preparer(args, servers), out=None, export_dir=Path(tmp),
                               preparing="simulated endpoints, probe suites")
            async with app.run_test(size=(200, 50)) as pilot:
                await pilot.pause()
                print("frame", flush=True)
                deadline = time.monotonic() + 120
                while app.main_screen is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)  # not pilot.pause: it repaints, taking the GIL
                await pilot.pause(0)  # its first refresh (not CPU idle: the run is going)
                print("main", flush=True)
                app.controller.cancel()
                await app.controller.wait()
            app.controller.stop_runner()
    finally:
        for server in servers:
            server.stop()

asyncio.run(main())
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _time(args: list[str], *markers: str, timeout: float = 120.0) -> list[float]:
    """Seconds from spawning `args` to each line in `markers` (in order), or to its exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    elapsed: list[float] = []
    try:
        waiting = list(markers)
        for line in proc.stdout if waiting else ():
            if line.strip() == waiting[0]:
                elapsed.append(time.perf_counter() - started)
                waiting.pop(0)
                if not waiting:
                    break
        proc.stdout.read()
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}")
    if len(elapsed) < len(markers):
        raise RuntimeError(f"{' '.join(args)} never printed {markers[len(elapsed)]!r}")
    return elapsed or [time.perf_counter() - started]


def run(quick: bool = False) -> dict[str, float]:
    n = 5 if quick else 11
    floor = [_time([sys.executable, "-c", "pass"])[0] for _ in range(n)]
    helps = [_time([sys.executable, "-m", "vvtui", "--help"])[0] for _ in range(n)]
    frames = [
        _time([sys.executable, "-c", _FIRST_FRAME], "frame", "main")
        for _ in range(1 if quick else 5)
    ]
    keys = {
        "python_ms": 1000 * statistics.median(floor),
        "help_ms": 1000 * statistics.median(helps),
        "first_frame_ms": 1000 * statistics.median(f[0] for f in frames),
        "run_screen_ms": 1000 * statistics.median(f[1] for f in frames),
    }
    print(f"  python -c pass        {keys['python_ms']:7.0f} ms  (median of {n})")
    print(f"  vvtui --help          {keys['help_ms']:7.0f} ms  (median of {n})")
    print(
        f"  vvtui demo 1st frame  {keys['first_frame_ms']:7.0f} ms  (median of {len(frames)}; "
        "the app's first screen; the simulator and suites load behind it)"
    )
    print(
        f"  vvtui demo run screen {keys['run_screen_ms']:7.0f} ms  (simulator, suites and plan "
        "ready, the run's screen shown)"
    )
    return keys


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
