"""Event-loop lag of the TUI while many endpoints stream (`python -m benchmarks.tui_lag`).

The app runs headless (Textual's test driver, real compositor) on a run against the simulator in
a child process, so the simulator's timing is not disturbed by the UI. Once every endpoint has
answered once (startup behind us), a probe task asks the loop for a 10 ms sleep over and over; how
late it wakes is the lag a keypress or a runner callback would see. Prints p50 / p99 / max lag.
The machine's load shows in these numbers: compare runs made on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from vvtui.runner.plan import build_plan
from vvtui.sim.ladder import ladder_config
from vvtui.sim.process import start_sim_process
from vvtui.sim.profiles import default_profiles
from vvtui.tui.app import AppOptions, VvtuiApp
from vvtui.tui.controller import RunController, RunSpec
from vvtui.tui.themes import shipped_themes_dir


def profiles_for(streams: int, tokens_per_s: float) -> list:
    base = default_profiles(1.0)
    out = []
    for i in range(streams):
        p = base[i % len(base)]
        name = p.name if i < len(base) else f"{p.name}-{i}"
        out.append(
            dataclasses.replace(p, name=name, tokens_per_s=tokens_per_s, ttft_s=0.05, jitter=0.0)
        )
    return out


async def measure(streams: int, tokens_per_s: float, seconds: float, size: tuple[int, int]) -> None:
    profiles = profiles_for(streams, tokens_per_s)
    server = start_sim_process(profiles)
    try:
        config = ladder_config(server.url, profiles)
        for e in config.endpoints:
            e.max_concurrency = 1  # one stream per endpoint at a time: `streams` in flight
        plan, info = build_plan(config, suites=["all"], seed=7, max_concurrency=streams)
        with tempfile.TemporaryDirectory() as tmp:
            controller = RunController(spec=RunSpec(plan, info), export_dir=Path(tmp))
            app = VvtuiApp(
                controller,
                AppOptions(export_dir=Path(tmp), theme_dirs=[shipped_themes_dir()]),
            )
            lags: list[float] = []
            async with app.run_test(size=size) as pilot:
                # Steady state only: start once every endpoint has answered (imports, the
                # tokenizer and the first layout are behind us).
                deadline = time.perf_counter() + 60
                while controller.model.done < streams and time.perf_counter() < deadline:
                    await pilot.pause(0.05)
                started = time.perf_counter()
                while time.perf_counter() - started < seconds and controller.model.running:
                    before = time.perf_counter()
                    await asyncio.sleep(0.01)
                    lags.append(time.perf_counter() - before - 0.01)
                done = controller.model.done
                controller.cancel()
                await pilot.pause(0.2)
    finally:
        server.stop()
    lags.sort()
    p99 = lags[int(0.99 * (len(lags) - 1))]
    print(
        f"  {streams} streams at {tokens_per_s:g} tok/s, {size[0]}x{size[1]}: "
        f"loop lag p50 {1000 * statistics.median(lags):.1f} ms, p99 {1000 * p99:.1f} ms, "
        f"max {1000 * lags[-1]:.1f} ms over {len(lags)} samples; {done} answers"
    )


def run(quick: bool = False) -> None:
    seconds = 8.0 if quick else 20.0
    asyncio.run(measure(8, 100, seconds, (200, 50)))
    asyncio.run(measure(16, 100, seconds, (240, 60)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tui_lag")
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
