"""`python -m benchmarks [--quick] [--only NAME ...]`: every benchmark, a table, one key=value line.

Benchmarks print numbers; nothing here asserts (the machine is shared and noisy). Ratios are
taken against baselines measured in the same run; the load average is printed before and after
so a reader can tell a quiet run from a busy one. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import decide, memory, overhead, scoring, startup, truth, tui_lag

# name, title, runner
SECTIONS: list[tuple[str, str, Callable[[bool], Any]]] = [
    ("truth", "TTFT and tok/s truth (1, 8, 16 streams)", truth.run),
    ("overhead", "overhead: CPU per 100k streamed tokens", overhead.run),
    ("lag", "TUI event-loop lag", tui_lag.run),
    ("scoring", "scoring core", scoring.run),
    ("startup", "start-up", startup.run),
    ("memory", "memory", memory.run),
    ("decide", "--until-decided: requests to a verdict and wrong verdicts over seeds", decide.run),
]

# key, what, target (value must be below or equal), unit
TARGETS: list[tuple[str, str, float, str]] = [
    ("ttft_err_ms_p50", "TTFT error p50, headless, 16 streams", 2.0, "ms"),
    ("ttft_err_ms_p50_tui", "TTFT error p50, TUI, 16 streams", 2.0, "ms"),
    ("ttft_err_ms_p90_tui", "TTFT error p90, TUI, 16 streams", 5.0, "ms"),
    ("ttft_err_ms_p50_load_tui", "TTFT error p50, TUI, 16 x 300 tok/s", 5.0, "ms"),
    ("tps_err_rel_p50_tui", "tok/s error p50, TUI, 16 streams", 0.01, "x"),
    ("overhead_headless", "CPU per token, headless / bare loop", 1.5, "x"),
    ("overhead_tui", "CPU per token, TUI (both processes) / bare", 2.0, "x"),
    ("lag_p99_ms", "TUI loop lag p99, 16 x 100 tok/s", 50.0, "ms"),
    ("align_10k_ms", "align two 10k-token answers (worst)", 20.0, "ms"),
    ("incr_update_ms", "incremental update at 1000 results", 1.0, "ms"),
    ("rescore_ms", "rescore 1000 probes x 8 endpoints", 2000.0, "ms"),
    ("mmd_ms", "MMD 25 x 10 x 1000 permutations", 1000.0, "ms"),
    ("help_ms", "vvtui --help", 300.0, "ms"),
    ("first_frame_ms", "vvtui demo, first TUI frame", 1500.0, "ms"),
    ("rss_mb", "peak RSS, 1000 x 8 with logprobs", 300.0, "MB"),
]
# Keys the last line always carries first, in this order.
FIRST_KEYS = [
    "ttft_err_ms_p50",
    "overhead_headless",
    "overhead_tui",
    "align_10k_ms",
    "rescore_ms",
    "help_ms",
]


def _load() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "n/a"


def _fmt(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer requests and repeats (< 2 min)")
    parser.add_argument(
        "--only", nargs="+", choices=[s[0] for s in SECTIONS], help="run only these sections"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"vvtui benchmarks ({'quick' if args.quick else 'full'}): {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"load average {_load()} at start"
    )
    keys: dict[str, float] = {}
    for name, title, runner in SECTIONS:
        if args.only and name not in args.only:
            continue
        print(f"\n== {title}")
        t0 = time.perf_counter()
        result = runner(args.quick)
        found = result[1] if isinstance(result, tuple) else result
        keys.update(found)
        print(f"  ({time.perf_counter() - t0:.0f} s)")
    elapsed = time.perf_counter() - started
    print(f"\n== summary ({elapsed:.0f} s; load average {_load()} at the end)")
    print(f"  {'measure':<42} {'value':>9} {'target':>9}")
    for key, what, target, unit in TARGETS:
        if key not in keys:
            continue
        value = keys[key]
        ok = "ok" if value <= target else "MISSED"
        print(f"  {what:<42} {_fmt(value):>7} {unit:<2} {'<= ' + _fmt(target):>8} {unit:<2} {ok}")
    for key in ("rss_run_mb", "ttft_err_ms_p50_load", "ttft_err_ms_p50_bare"):
        if key in keys:
            print(f"  {key:<42} {_fmt(keys[key]):>7}")
    ordered = [k for k in FIRST_KEYS if k in keys] + sorted(k for k in keys if k not in FIRST_KEYS)
    print(" ".join(f"{k}={_fmt(keys[k])}" for k in ordered))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
