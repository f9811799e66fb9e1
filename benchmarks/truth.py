"""TTFT and tok/s truth: how far each client's numbers are from what the server actually did.

A simulated endpoint with a known plan (300 ms TTFT, 50 tok/s, no jitter) in a child process;
1, 8 and 16 concurrent streams; three clients in turn at each level (the bare httpx + json.loads
loop, vvtui headless, vvtui with the TUI under `run_test`), so they share the machine's load.

- TTFT error: the client's first-token stamp minus the server's first-token write time (same
  clock). What remains is the time the client took to notice bytes already on the socket.
- tok/s error: |client's rate - the rate of the server's own write times|.
Medians and p90s over all requests of a level.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from benchmarks import streams as st

LEVELS = (1, 8, 16)
TTFT_S = 0.3
TOKENS_PER_S = 50.0


@dataclass
class Row:
    client: str
    streams: int
    requests: int
    ttft_p50: float
    ttft_p90: float
    tps_p50: float
    tps_p90: float
    tps_rel_p50: float
    missing: int
    server_late_ms: float  # median lateness of the server's first tokens


def _rounds(level: int, quick: bool) -> int:
    if quick:
        return {1: 4, 8: 2, 16: 2}[level]
    return {1: 20, 8: 5, 16: 4}[level]


async def _one(client: str, eps: list[Any], plist: list[Any]) -> list[st.Seen]:
    if client == "bare":
        return await st.run_bare(eps, plist)
    if client == "headless":
        return (await st.run_headless(eps, plist))[0]
    return (await st.run_tui(eps, plist))[0]


def run(quick: bool = False) -> tuple[list[Row], dict[str, float]]:
    from vvtui.sim.process import start_sim_process

    n_tokens = 30 if quick else 60
    profs = st.profiles(max(LEVELS), TTFT_S, TOKENS_PER_S)
    rows: list[Row] = []
    with start_sim_process(profs) as sim:
        # Warm up every client (imports, first-use paths, the simulator's own start).
        warm = st.endpoints(sim.url, profs[:2])
        for client in st.CLIENTS:
            asyncio.run(_one(client, warm, st.probes(1, 4, f"warm-{client}")))
        sim.requests()
        for level in LEVELS:
            eps = st.endpoints(sim.url, profs[:level])
            for client in st.CLIENTS:
                plist = st.probes(_rounds(level, quick), n_tokens, f"{client}{level}")
                seen = asyncio.run(_one(client, eps, plist))
                records = sim.requests()
                err = st.errors(seen, st.truths(records))
                late = [
                    1000.0 * (r["written"][0] - r["arrived"] - r["ttft_s"])
                    for r in records
                    if r["written"]
                ]
                rows.append(
                    Row(
                        client,
                        level,
                        len(seen),
                        st.median(err.ttft_ms),
                        st.quantile(err.ttft_ms, 0.9),
                        st.median(err.tps),
                        st.quantile(err.tps, 0.9),
                        st.median(err.tps_rel),
                        err.missing,
                        st.median(late),
                    )
                )
    print(
        f"  server plan: TTFT {TTFT_S * 1000:.0f} ms, {TOKENS_PER_S:g} tok/s, {n_tokens} tokens; "
        "errors vs what the server actually wrote"
    )
    print(
        f"  {'client':<9} {'streams':>7} {'n':>4}  {'TTFT err p50':>12} {'p90':>7}  "
        f"{'tok/s err p50':>13} {'p90':>6} {'(%)':>6}  {'server late':>11}"
    )
    for r in rows:
        unmatched = f"  ({r.missing} unmatched)" if r.missing else ""
        print(
            f"  {r.client:<9} {r.streams:>7} {r.requests:>4}  {r.ttft_p50:>9.2f} ms"
            f" {r.ttft_p90:>7.2f}  {r.tps_p50:>13.2f} {r.tps_p90:>6.2f}"
            f" {100 * r.tps_rel_p50:>5.1f}%  {r.server_late_ms:>8.2f} ms{unmatched}"
        )
    by = {(r.client, r.streams): r for r in rows}
    keys = {
        "ttft_err_ms_p50": by[("headless", 16)].ttft_p50,
        "ttft_err_ms_p90": by[("headless", 16)].ttft_p90,
        "ttft_err_ms_p50_tui": by[("tui", 16)].ttft_p50,
        "ttft_err_ms_p90_tui": by[("tui", 16)].ttft_p90,
        "ttft_err_ms_p50_bare": by[("bare", 16)].ttft_p50,
        "tps_err_p50": by[("headless", 16)].tps_p50,
        "tps_err_p50_tui": by[("tui", 16)].tps_p50,
        "tps_err_p50_bare": by[("bare", 16)].tps_p50,
        "tps_err_rel_p50_tui": by[("tui", 16)].tps_rel_p50,
    }
    return rows, keys


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
