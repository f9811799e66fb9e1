"""Streams against one simulator, three clients: the thinnest possible loop, vvtui headless, and
vvtui with its TUI on screen. Shared by the TTFT-truth and overhead benchmarks.

The simulator runs in a child process (`start_sim_process`), so the clients' work never delays
its writes, and it reports what it actually did: when each content token was handed to the
socket (`SimServer.requests`), on `time.monotonic`, the clock `time.perf_counter` reads too on
Linux. A client's first-token stamp minus the server's first-token write time is therefore the
delay the client itself adds to TTFT: the server's own lateness is not counted against it.

One stream per endpoint: `streams` endpoints (profiles `s0`, `s1`, ...), each with one request
in flight, each answering `rounds` probes in turn. In the TUI every stream has its own pane.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vvtui.config import EndpointConfig
from vvtui.model import Probe, RunInfo
from vvtui.runner.core import Runner
from vvtui.runner.events import RunEvent, RunFinished, RunStarted, StreamEvent
from vvtui.runner.plan import RunPlan
from vvtui.sim.profiles import SIM_MODEL, Profile

# fmt: off
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma",
         "omega", "river", "stone", "cloud", "maple", "cedar", "amber", "coral", "ivory", "olive"]
# fmt: on
CLIENTS = ("bare", "headless", "tui")


def answer_text(n_tokens: int) -> str:
    """n_tokens simulator tokens: one word each (the simulator cuts ` word` pieces)."""
    return " ".join(WORDS[i % len(WORDS)] for i in range(n_tokens))


def profiles(streams: int, ttft_s: float, tokens_per_s: float) -> list[Profile]:
    return [
        Profile(f"s{i}", "benchmark stream", ttft_s=ttft_s, tokens_per_s=tokens_per_s, jitter=0.0)
        for i in range(streams)
    ]


def probes(rounds: int, n_tokens: int, tag: str) -> list[Probe]:
    """Distinct probes (the server keys its records by probe id) with the same answer."""
    answer = answer_text(n_tokens)
    return [
        Probe(
            id=f"{tag}-{r:03d}",
            messages=[{"role": "user", "content": f"Say the {n_tokens} words ({tag} {r})."}],
            max_tokens=n_tokens + 16,
            answer=answer,
        )
        for r in range(rounds)
    ]


def endpoints(sim_url: str, profs: Sequence[Profile]) -> list[EndpointConfig]:
    return [
        EndpointConfig(
            name=p.name,
            base_url=f"{sim_url}/{p.name}/v1",
            model=SIM_MODEL,
            reference=i == 0,
            max_concurrency=1,
            timeout_s=60.0,
            stall_timeout_s=60.0,
            simulated=True,
        )
        for i, p in enumerate(profs)
    ]


@dataclass(slots=True)
class Seen:
    """One request as a client saw it: perf_counter stamps and the client's own figures."""

    endpoint: str
    key: str  # probe_id#sample, as the simulator keys its records
    t_first: float | None = None  # when the first content token was seen
    ttft_s: float | None = None  # what the client reports
    tokens_per_s: float | None = None
    tokens: int = 0


@dataclass
class Outcome:
    client: str
    seen: list[Seen]
    cpu_s: float  # process CPU from the first request to the last answer
    wall_s: float
    lags: list[float] = field(default_factory=list)  # event-loop lag samples (TUI runs)


# ------------------------------------------------------------------------------------ bare loop


async def _bare_stream(http: Any, url: str, body: dict[str, Any], seen: Seen) -> None:
    """httpx + json.loads, nothing else: stamp each read, split events, count content tokens."""
    sent = time.perf_counter()
    first = last = 0.0
    n_first = tokens = 0
    buf = b""
    async with http.stream("POST", url, json=body) as response:
        async for data in response.aiter_raw():
            t = time.perf_counter()
            buf += data
            *events, buf = buf.split(b"\n\n")
            got = 0
            for event in events:
                if event.startswith(b"data: {"):
                    chunk = json.loads(event[6:])
                    choices = chunk.get("choices")
                    if choices and choices[0]["delta"].get("content"):
                        got += 1
            if got:
                if not first:
                    first, n_first = t, got
                last = t
                tokens += got
    seen.t_first = first or None
    seen.ttft_s = first - sent if first else None
    seen.tokens = tokens
    if last > first and tokens > n_first:
        seen.tokens_per_s = (tokens - n_first) / (last - first)


async def run_bare(eps: list[EndpointConfig], plist: list[Probe]) -> list[Seen]:
    import httpx

    from vvtui.clients.request import build_openai_body

    out: list[Seen] = []
    limits = httpx.Limits(max_connections=len(eps), max_keepalive_connections=len(eps))
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as http:

        async def worker(ep: EndpointConfig) -> None:
            url = f"{ep.base_url}/chat/completions"
            for probe in plist:
                seen = Seen(ep.name, f"{probe.id}#0")
                await _bare_stream(http, url, build_openai_body(probe, ep), seen)
                out.append(seen)

        await asyncio.gather(*(worker(ep) for ep in eps))
    return out


# ------------------------------------------------------------------------------------ vvtui


class Recorder:
    """Wraps a run's event callback: notes each request's first-token stamp (the client event's
    own `t`, taken by vvtui's body pump as the bytes arrived) and the CPU/wall span of the run.
    `other_cpu` gives the CPU seconds of the TUI's runner process, counted with this one's."""

    def __init__(
        self,
        inner: Callable[[RunEvent], None] | None = None,
        other_cpu: Callable[[], float] | None = None,
    ) -> None:
        self.inner = inner
        self.other_cpu = other_cpu
        self.first: dict[tuple[str, str], float] = {}
        self.cpu0 = self.wall0 = 0.0
        self.cpu_s = self.wall_s = 0.0
        # This process's share of cpu_s (for the TUI: the drawing process; the rest is its
        # runner process).
        self.own0 = self.own_cpu_s = 0.0

    def _cpu(self) -> float:
        return time.process_time() + (self.other_cpu() if self.other_cpu is not None else 0.0)

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, StreamEvent):
            key = (event.key.endpoint, f"{event.key.probe_id}#{event.key.sample}")
            if key not in self.first and getattr(event.event, "text", ""):
                self.first[key] = event.event.t
        elif isinstance(event, RunStarted):
            self.cpu0, self.wall0 = self._cpu(), time.perf_counter()
            self.own0 = time.process_time()
        elif isinstance(event, RunFinished):
            self.cpu_s = self._cpu() - self.cpu0
            self.wall_s = time.perf_counter() - self.wall0
            self.own_cpu_s = time.process_time() - self.own0
        if self.inner is not None:
            self.inner(event)


def _seen_from(results: list[Any], recorder: Recorder) -> list[Seen]:
    out = []
    for r in results:
        key = f"{r.probe_id}#{r.sample}"
        out.append(
            Seen(
                r.endpoint,
                key,
                recorder.first.get((r.endpoint, key)),
                r.ttft_s,
                r.tokens_per_s,
                r.output_tokens or 0,
            )
        )
    return out


async def run_headless(
    eps: list[EndpointConfig], plist: list[Probe]
) -> tuple[list[Seen], Recorder]:
    recorder = Recorder()
    plan = RunPlan(eps, plist, reference_repeats=0, max_concurrency=len(eps))
    results = await Runner(plan, on_event=recorder).run()
    return _seen_from(results, recorder), recorder


async def run_tui(
    eps: list[EndpointConfig],
    plist: list[Probe],
    size: tuple[int, int] = (240, 60),
    lag_after: int = 0,
    limit_s: float = 300.0,
) -> tuple[list[Seen], Recorder, list[float]]:
    """The app under Textual's test driver (real compositor, no terminal), its run in a runner
    process as the CLI runs it (`VVTUI_RUNNER=inline`: on the app's loop). With `lag_after`,
    event-loop lag is sampled (10 ms sleeps) once that many answers are in."""
    from vvtui.tui.app import AppOptions, VvtuiApp
    from vvtui.tui.controller import RunController, RunSpec
    from vvtui.tui.themes import shipped_themes_dir

    plan = RunPlan(eps, plist, reference_repeats=0, max_concurrency=len(eps))
    lags: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        controller = RunController(spec=RunSpec(plan, RunInfo()), export_dir=Path(tmp))
        recorder = Recorder(
            controller._on_event,
            other_cpu=lambda: getattr(controller.session, "child_cpu_s", 0.0),
        )
        controller._on_event = recorder  # type: ignore[method-assign]
        controller.prepare_runner()  # as `vvtui.tui.run_app` does
        # As the CLI runs it (`vvtui.tui.app_options`): no full GC collections mid-run.
        options = AppOptions(
            export_dir=Path(tmp), theme_dirs=[shipped_themes_dir()], manage_gc=True
        )
        app = VvtuiApp(controller, options)
        _write_to_terminal(app)
        async with app.run_test(size=size):
            deadline = time.perf_counter() + limit_s
            while time.perf_counter() < deadline:
                if recorder.cpu_s or controller.model.phase in ("finished", "cancelled", "failed"):
                    break
                if lag_after and controller.model.done >= lag_after:
                    before = time.perf_counter()
                    await asyncio.sleep(0.01)
                    lags.append(time.perf_counter() - before - 0.01)
                else:
                    # Not `pilot.pause()`: it posts a callback to every widget on screen and
                    # forces a screen update each time, work no terminal session has.
                    await asyncio.sleep(0.02)
            controller.cancel()
            await controller.wait()
            results = list(controller.session.results) if controller.session else []
        controller.stop_runner()
    return _seen_from(results, recorder), recorder, lags


def _write_to_terminal(app: Any) -> None:
    """Have each screen update turned into the bytes a terminal would get, and dropped.

    Textual's headless driver skips that step (`App._display` returns early), so without this a
    benchmark would not count the escape sequences every real frame is encoded to."""
    from textual._compositor import CompositorUpdate

    display = app._display

    def _display(screen: Any, renderable: Any) -> None:
        if isinstance(renderable, CompositorUpdate) and not app._batch_count:
            renderable.render_segments(app.console)
        display(screen, renderable)

    app._display = _display


# ------------------------------------------------------------------------------------ truth


@dataclass(slots=True)
class Truth:
    """What the server did for one request (its clock, shared with perf_counter)."""

    first: float
    rate: float | None  # tokens/s after the first, from the write times


def truths(records: list[dict[str, Any]]) -> dict[tuple[str, str], Truth]:
    out = {}
    for rec in records:
        written = rec["written"]
        if not written:
            continue
        span = written[-1] - written[0]
        rate = (len(written) - 1) / span if len(written) > 1 and span > 0 else None
        out[(rec["profile"], rec["key"])] = Truth(written[0], rate)
    return out


@dataclass
class Errors:
    ttft_ms: list[float]  # client first-token stamp - server first-token write, ms
    tps: list[float]  # |client tok/s - server tok/s|
    tps_rel: list[float]  # the same as a share of the true rate
    missing: int  # requests with no matching record or no first token


def errors(seen: list[Seen], truth: dict[tuple[str, str], Truth]) -> Errors:
    ttft, tps, rel = [], [], []
    missing = 0
    for s in seen:
        t = truth.get((s.endpoint, s.key))
        if t is None or s.t_first is None:
            missing += 1
            continue
        ttft.append(1000.0 * (s.t_first - t.first))
        if t.rate and s.tokens_per_s:
            tps.append(abs(s.tokens_per_s - t.rate))
            rel.append(abs(s.tokens_per_s - t.rate) / t.rate)
    return Errors(ttft, tps, rel, missing)


def quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
