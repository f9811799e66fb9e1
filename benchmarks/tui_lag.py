"""Event-loop lag of the TUI while 16 endpoints stream 100 tok/s each.

`python -m benchmarks.tui_lag [--quick]`.

The app runs under Textual's test driver (real compositor, no terminal) on a run against the
simulator in a child process, one stream per endpoint pane. Once every stream has answered once
(start-up behind us), a probe task asks the loop for a 10 ms sleep over and over; how late it
wakes is the lag a keypress or a token's timestamp would see. Prints p50 / p99 / max.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from benchmarks import streams as st

STREAMS = 16
TOKENS_PER_S = 100.0
ANSWER_TOKENS = 200


def run(quick: bool = False) -> dict[str, float]:
    from vvtui.sim.process import start_sim_process

    per_stream = 4 if quick else 10  # 2 s answers: about 6 s (quick) / 18 s of samples
    profs = st.profiles(STREAMS, 0.05, TOKENS_PER_S)
    with start_sim_process(profs) as sim:
        eps = st.endpoints(sim.url, profs)
        plist = st.probes(per_stream, ANSWER_TOKENS, "lag")
        _, _, lags = asyncio.run(st.run_tui(eps, plist, size=(240, 60), lag_after=STREAMS))
    lags.sort()
    keys = {
        "lag_p50_ms": 1000 * statistics.median(lags) if lags else float("nan"),
        "lag_p99_ms": 1000 * st.quantile(lags, 0.99),
        "lag_max_ms": 1000 * lags[-1] if lags else float("nan"),
    }
    print(
        f"  {STREAMS} streams x {TOKENS_PER_S:g} tok/s, 240x60: loop lag p50 "
        f"{keys['lag_p50_ms']:.1f} ms, p99 {keys['lag_p99_ms']:.1f} ms, max "
        f"{keys['lag_max_ms']:.1f} ms over {len(lags)} samples"
    )
    return keys


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tui_lag")
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)
