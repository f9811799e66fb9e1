"""How closely the simulator honours its configured TTFT and tokens/s, at 1, 8 and 16 streams.

Three views of the same streams:
- server: the simulator's own record of how late each token was written past its deadline
  (`SimServer.lateness`): the pacing accuracy the server itself achieves;
- raw: a minimal asyncio socket client timestamping bytes as they land, TTFT counted from the
  moment the request was sent (so it includes connecting and the server reading the request);
- httpx: the same through httpx.AsyncClient (what a real client stack adds on top).
Tokens/s is measured after the first token: (tokens - 1) / (last - first).

The server runs in a child process (its own GIL) and then on a thread of this process, as
`vvtui demo` runs it, where the client's own work competes for the GIL.

Run: PYTHONPATH=. python benchmarks/sim_timing.py [--quick]
Prints numbers only; nothing here asserts (the machine is shared and noisy).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

import httpx

from vvtui.sim.http import ServerThread
from vvtui.sim.profiles import Profile
from vvtui.sim.server import SimServer

PROFILES = [
    Profile("p50", "300 ms, 50 tok/s", ttft_s=0.3, tokens_per_s=50, jitter=0.0),
    Profile("p200", "100 ms, 200 tok/s", ttft_s=0.1, tokens_per_s=200, jitter=0.0),
]
ANSWER = " ".join(f"word{i}" for i in range(60))  # 60 tokens, one per chunk
CONTENT = b'"delta":{"content":"'
EMPTY = b'"delta":{"content":""'
Run = tuple[float, float, float, int]  # sent, first token, last token, tokens


def request_body() -> dict:
    return {
        "model": "vv-sim-8b",
        "stream": True,
        "temperature": 0,
        "messages": [{"role": "user", "content": "count"}],
        "vvtui_sim": {"answer": ANSWER},
    }


def token_count(data: bytes) -> int:
    return data.count(CONTENT) - data.count(EMPTY)


async def raw_stream(port: int, path: str) -> Run:
    payload = json.dumps(request_body()).encode()
    sent = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    first = last = 0.0
    tokens = 0
    for _ in range(100_000):
        data = await reader.read(65536)
        if not data:
            break
        found = token_count(data)
        if found:
            last = time.perf_counter()
            first = first or last
            tokens += found
    writer.close()
    return sent, first, last, tokens


async def httpx_stream(client: httpx.AsyncClient, url: str) -> Run:
    sent = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async with client.stream("POST", url, json=request_body()) as r:
        async for data in r.aiter_raw():
            found = token_count(data)
            if found:
                last = time.perf_counter()
                first = first or last
                tokens += found
    return sent, first, last, tokens


def fmt(values: list[float], unit: str) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"p50 {statistics.median(values):+6.1f} p95 {p95:+6.1f} max {values[-1]:+6.1f} {unit}"


def client_line(label: str, runs: list[Run], profile: Profile) -> str:
    ttft = [(first - sent - profile.ttft_s) * 1000 for sent, first, _l, _n in runs]
    rate = [
        100 * ((n - 1) / (last - first) / profile.tokens_per_s - 1) for _s, first, last, n in runs
    ]
    return f"  {label:<10} TTFT error {fmt(ttft, 'ms')} | tok/s error {fmt(rate, '%')}"


def server_line(lateness: list[tuple[int, float]]) -> str:
    first = [late * 1000 for i, late in lateness if i == 0]
    rest = [late * 1000 for i, late in lateness if i > 0]
    return f"  {'server':<10} 1st token late {fmt(first, 'ms')} | others late {fmt(rest, 'ms')}"


class Child:
    """The simulator in a child process; `stats()` fetches and clears its lateness record."""

    CODE = (
        "import json, sys\n"
        "from benchmarks.sim_timing import PROFILES\n"
        "from vvtui.sim.http import ServerThread\n"
        "from vvtui.sim.server import SimServer\n"
        "sim = SimServer(PROFILES)\n"
        "t = ServerThread(lambda: sim.handler).start()\n"
        "print(t.port, flush=True)\n"
        "for line in sys.stdin:\n"
        "    print(json.dumps(list(sim.lateness)), flush=True); sim.lateness.clear()\n"
        "t.stop()\n"
    )

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.port = int(self.proc.stdout.readline())

    def stats(self) -> list[tuple[int, float]]:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return [tuple(x) for x in json.loads(self.proc.stdout.readline())]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(10)


async def level(port: int, profile: Profile, streams: int, client: str) -> list[Run]:
    path = f"/{profile.name}/v1/chat/completions"
    if client == "raw":
        return list(await asyncio.gather(*(raw_stream(port, path) for _ in range(streams))))
    limits = httpx.Limits(max_connections=streams)
    async with httpx.AsyncClient(timeout=30, limits=limits) as c:
        url = f"http://127.0.0.1:{port}{path}"
        return list(await asyncio.gather(*(httpx_stream(c, url) for _ in range(streams))))


def run_all(port: int, stats, quick: bool) -> None:
    asyncio.run(level(port, PROFILES[1], 2, "httpx"))  # warm up both sides
    stats()
    for profile in PROFILES[:1] if quick else PROFILES:
        ms = profile.ttft_s * 1000
        print(f" {profile.name}: ttft {ms:.0f} ms, {profile.tokens_per_s:g} tok/s, 60 tokens")
        for streams in (1, 8, 16):
            print(f"  -- {streams} concurrent stream(s)")
            for client in ("raw", "httpx"):
                runs = asyncio.run(level(port, profile, streams, client))
                lateness = stats()
                print(client_line(client, runs, profile))
                if client == "raw":
                    print(server_line(lateness))


def main(quick: bool = False) -> None:
    print("== server in a child process")
    child = Child()
    try:
        run_all(child.port, child.stats, quick)
    finally:
        child.close()
    print("== server on a thread of the client's process (as `vvtui demo` runs it)")
    sim = SimServer(PROFILES)
    thread = ServerThread(lambda: sim.handler).start()

    def stats() -> list[tuple[int, float]]:
        out = list(sim.lateness)
        sim.lateness.clear()
        return out

    try:
        run_all(thread.port, stats, quick)
    finally:
        thread.stop()


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
