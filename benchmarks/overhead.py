"""What the tool costs: CPU seconds of this process per 100k streamed tokens, per client.

16 streams against the simulator in a child process (its CPU is not counted), fast enough that
the client's own work shows: 20 ms TTFT, 300 tok/s per stream (4,800 tok/s in all), 200-token
answers with 5 logprob alternatives per token (vvtui's default request, which the bare loop
sends and parses too). CPU is `time.process_time()` over the run: for vvtui from its first
request to its last answer (scoring the finished run is not streaming cost). The clients take
turns, repeated, and the ratios to the bare loop are medians of per-round ratios. The TTFT error
under this load is printed too: it is where a client that falls behind shows it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

from benchmarks import streams as st

STREAMS = 16
TTFT_S = 0.02
TOKENS_PER_S = 300.0
ANSWER_TOKENS = 200


@dataclass
class Round:
    client: str
    tokens: int
    cpu_s: float
    wall_s: float
    ttft_err_p50: float
    ttft_err_p90: float
    # The TUI's drawing process alone (cpu_s counts its runner process too).
    draw_cpu_s: float = float("nan")

    @property
    def cpu_per_100k(self) -> float:
        return self.cpu_s / max(self.tokens, 1) * 100_000


async def _one(client: str, eps: list, plist: list) -> tuple[list[st.Seen], float, float, float]:
    """Seen answers, CPU s, wall s, and the drawing process's own CPU s (TUI only)."""
    if client == "bare":
        cpu0, wall0 = time.process_time(), time.perf_counter()
        seen = await st.run_bare(eps, plist)
        return seen, time.process_time() - cpu0, time.perf_counter() - wall0, float("nan")
    if client == "headless":
        seen, rec = await st.run_headless(eps, plist)
        return seen, rec.cpu_s, rec.wall_s, float("nan")
    seen, rec, _ = await st.run_tui(eps, plist)
    return seen, rec.cpu_s, rec.wall_s, rec.own_cpu_s


def run(quick: bool = False) -> tuple[list[Round], dict[str, float]]:
    from vvtui.sim.process import start_sim_process

    rounds = 1 if quick else 3
    per_stream = 4 if quick else 8  # answers per stream per round
    profs = st.profiles(STREAMS, TTFT_S, TOKENS_PER_S)
    out: list[Round] = []
    with start_sim_process(profs) as sim:
        eps = st.endpoints(sim.url, profs)
        for client in st.CLIENTS:  # warm up
            asyncio.run(_one(client, eps[:2], st.probes(1, 8, f"warm-{client}")))
        sim.requests()
        for n in range(rounds):
            for client in st.CLIENTS:
                plist = st.probes(per_stream, ANSWER_TOKENS, f"{client}-{n}")
                seen, cpu_s, wall_s, draw_s = asyncio.run(_one(client, eps, plist))
                records = sim.requests()
                tokens = sum(len(r["written"]) for r in records)
                err = st.errors(seen, st.truths(records))
                out.append(
                    Round(
                        client,
                        tokens,
                        cpu_s,
                        wall_s,
                        st.median(err.ttft_ms),
                        st.quantile(err.ttft_ms, 0.9),
                        draw_s,
                    )
                )
    per = {c: [r for r in out if r.client == c] for c in st.CLIENTS}
    ratios = {
        c: statistics.median(
            r.cpu_per_100k / b.cpu_per_100k for r, b in zip(per[c], per["bare"], strict=True)
        )
        for c in st.CLIENTS
    }
    print(
        f"  {STREAMS} streams x {TOKENS_PER_S:g} tok/s, {ANSWER_TOKENS}-token answers, top-5 "
        f"logprobs; {rounds} round(s)"
    )
    print(
        f"  {'client':<9} {'tokens':>7} {'CPU s':>7} {'wall s':>7} {'CPU s/100k tok':>15} "
        f"{'x bare':>7}  {'TTFT err p50':>12} {'p90':>7}"
    )
    for c in st.CLIENTS:
        for r in per[c]:
            print(
                f"  {c:<9} {r.tokens:>7} {r.cpu_s:>7.2f} {r.wall_s:>7.2f} {r.cpu_per_100k:>15.2f} "
                f"{ratios[c]:>7.2f}  {r.ttft_err_p50:>9.2f} ms {r.ttft_err_p90:>7.2f}"
            )
    tui = per["tui"]
    draw = statistics.median(r.draw_cpu_s / max(r.tokens, 1) * 100_000 for r in tui)
    print(
        f"  tui split: drawing process {draw:.2f} CPU s/100k tok, runner process "
        f"{statistics.median(r.cpu_per_100k for r in tui) - draw:.2f}"
    )
    keys = {
        "cpu_s_per_100k_bare": statistics.median(r.cpu_per_100k for r in per["bare"]),
        "cpu_s_per_100k_headless": statistics.median(r.cpu_per_100k for r in per["headless"]),
        "cpu_s_per_100k_tui": statistics.median(r.cpu_per_100k for r in per["tui"]),
        "overhead_headless": ratios["headless"],
        "overhead_tui": ratios["tui"],
        "cpu_s_per_100k_tui_draw": draw,
        "ttft_err_ms_p50_load": statistics.median(r.ttft_err_p50 for r in per["headless"]),
        "ttft_err_ms_p50_load_tui": statistics.median(r.ttft_err_p50 for r in per["tui"]),
        "ttft_err_ms_p50_load_bare": statistics.median(r.ttft_err_p50 for r in per["bare"]),
    }
    return out, keys


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
