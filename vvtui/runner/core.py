"""The runner: probes × endpoints × samples, with bounded concurrency, independent endpoints and
clean cancellation. It turns client events into Results and emits RunEvents; it knows nothing of
the UI and nothing of scoring.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vvtui.clients.events import ClientEvent, Failed, ReasoningDelta, Retrying, TextDelta
from vvtui.clients.events import ToolCallDelta as ToolCallDeltaEvent
from vvtui.config import EndpointConfig
from vvtui.model import ErrorInfo, Probe, Result
from vvtui.providers.openrouter import provider_mismatch
from vvtui.redact import redact
from vvtui.runner.events import (
    JobKey,
    RequestStarted,
    ResultReady,
    RunEvent,
    RunFinished,
    RunStarted,
    StreamEvent,
)

# Client events worth forwarding to a live front end; the rest only feed the accumulator.
_LIVE_EVENTS = (TextDelta, ReasoningDelta, ToolCallDeltaEvent, Retrying, Failed)


class StreamingClient(Protocol):
    def stream(self, probe: Probe, *, sample: int = 0) -> Any: ...


class JobGate(Protocol):
    """Decides, job by job, whether a request is still worth sending (--until-decided:
    vvtui.runner.until_decided)."""

    def bind(self, emit: Callable[[RunEvent], None]) -> None: ...

    async def admit(self, job: JobKey) -> bool: ...

    def observe(self, result: Result) -> None: ...


ClientFactory = Callable[[EndpointConfig, Any], StreamingClient]


@dataclass(slots=True)
class RunPlan:
    endpoints: list[EndpointConfig]
    probes: list[Probe]
    # Extra passes of the reference over deterministic probes: its own noise floor.
    reference_repeats: int = 1
    # Requests in flight across all endpoints.
    max_concurrency: int = 16
    # What `vvtui endpoints check` found, by endpoint name (vvtui.clients.capabilities): probes
    # needing a feature an endpoint declared missing are recorded as unsupported, not sent.
    capabilities: dict[str, Any] = field(default_factory=dict)
    # Probe ids in the order to send them (--until-decided); None: suite order.
    order: list[str] | None = None
    # --until-decided: a vvtui.scoring.decide.StoppingRule; endpoints stop once decided.
    stopping: Any = None

    @property
    def reference(self) -> EndpointConfig:
        for e in self.endpoints:
            if e.reference:
                return e
        return self.endpoints[0]

    def jobs(self) -> list[JobKey]:
        """Every request of the run, probe-major so all endpoints work on the same probe at once
        (what a side-by-side view wants to show), reference repeats last."""
        ref = self.reference.name
        if self.order is not None:
            return self._ordered_jobs(ref)
        jobs = [
            JobKey(e.name, p.id, s, 0)
            for p in self.probes
            for s in range(max(1, p.n_samples))
            for e in self.endpoints
        ]
        jobs += [
            JobKey(ref, p.id, 0, r)
            for r in range(1, self.reference_repeats + 1)
            for p in self.probes
            if p.deterministic
        ]
        return jobs

    def _ordered_jobs(self, ref: str) -> list[JobKey]:
        """Jobs in `order`, each probe's reference repeats right after it: an endpoint can be
        judged on a probe as soon as that probe is done, floor included."""
        by_id = {p.id: p for p in self.probes}
        jobs = []
        for pid in self.order or []:
            p = by_id[pid]
            for s in range(max(1, p.n_samples)):
                jobs += [JobKey(e.name, p.id, s, 0) for e in self.endpoints]
            if p.deterministic:
                jobs += [JobKey(ref, p.id, 0, r) for r in range(1, self.reference_repeats + 1)]
        return jobs


@dataclass
class Runner:
    plan: RunPlan
    on_event: Callable[[RunEvent], None] | None = None
    client_factory: ClientFactory | None = None
    # Builds one HTTP client per endpoint; defaults to vvtui.clients.new_http_client.
    http_factory: Callable[[EndpointConfig], Any] | None = None
    # Token counter for usage estimates when a provider sends no usage.
    count_tokens: Callable[[str], int] | None = None
    # Job keys already answered (resumed runs): not asked again.
    skip: Iterable[tuple[str, str, int, int]] = ()
    # Called with each Result as it completes, before the event is emitted (the write-ahead log).
    on_result: Callable[[Result], None] | None = None
    # Asked before each request whether it is still needed (--until-decided).
    gate: JobGate | None = None

    results: list[Result] = field(default_factory=list, init=False)
    cancelled: bool = field(default=False, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _done: int = field(default=0, init=False)
    _total: int = field(default=0, init=False)

    def _emit(self, event: RunEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def cancel(self) -> None:
        """Stop the run; requests in flight are recorded as cancelled (partial text kept)."""
        self.cancelled = True
        for task in self._tasks:
            task.cancel()

    async def run(self, resumed: list[Result] | None = None) -> list[Result]:
        skip = set(self.skip)
        jobs = [j for j in self.plan.jobs() if j.as_tuple() not in skip]
        per_endpoint: dict[str, list[JobKey]] = {e.name: [] for e in self.plan.endpoints}
        for job in jobs:
            per_endpoint[job.endpoint].append(job)
        self._total = len(jobs)
        self._emit(
            RunStarted(
                total=self._total,
                per_endpoint={k: len(v) for k, v in per_endpoint.items()},
                resumed=list(resumed or []),
            )
        )
        probes = {p.id: p for p in self.plan.probes}
        if self.gate is not None:
            self.gate.bind(self._emit)
        overall = asyncio.Semaphore(max(1, self.plan.max_concurrency))
        client_factory, http_factory = self.client_factory, self.http_factory
        if client_factory is None:
            from vvtui.clients import make_client

            client_factory = make_client
        if http_factory is None:
            http_factory = _endpoint_http_client

        async with contextlib.AsyncExitStack() as stack:
            for endpoint in self.plan.endpoints:
                queue = per_endpoint[endpoint.name]
                if not queue:
                    continue
                http = http_factory(endpoint)
                if hasattr(http, "aclose"):
                    stack.push_async_callback(http.aclose)
                client = client_factory(endpoint, http)
                pending: asyncio.Queue[JobKey] = asyncio.Queue()
                for job in queue:
                    pending.put_nowait(job)
                for _ in range(min(endpoint.max_concurrency, len(queue))):
                    self._tasks.append(
                        asyncio.create_task(
                            self._worker(endpoint, client, pending, probes, overall),
                            name=f"vvtui-{endpoint.name}",
                        )
                    )
            try:
                outcomes = await asyncio.gather(*self._tasks, return_exceptions=True)
            except asyncio.CancelledError:
                # Our own caller was cancelled (Ctrl-C in the TUI, a test's timeout): stop workers,
                # let them record what they had, then re-raise.
                self.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self._emit(RunFinished(cancelled=True, done=self._done, total=self._total))
                raise
        self._emit(RunFinished(cancelled=self.cancelled, done=self._done, total=self._total))
        # A worker that died (a bug in a callback, say) left its endpoint's remaining jobs undone:
        # say so rather than return a run that looks complete.
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return self.results

    async def _worker(
        self,
        endpoint: EndpointConfig,
        client: StreamingClient,
        pending: asyncio.Queue[JobKey],
        probes: dict[str, Probe],
        overall: asyncio.Semaphore,
    ) -> None:
        while not self.cancelled:
            try:
                job = pending.get_nowait()
            except asyncio.QueueEmpty:
                return
            if self.gate is not None and not await self.gate.admit(job):
                self._total -= 1  # not needed: the endpoint is decided or out of budget
                continue
            async with overall:
                if self.cancelled:
                    return
                await self._execute(endpoint, client, job, probes[job.probe_id])

    async def _execute(
        self, endpoint: EndpointConfig, client: StreamingClient, job: JobKey, probe: Probe
    ) -> None:
        from vvtui.clients.accumulate import Accumulator
        from vvtui.clients.capabilities import probe_features

        acc = Accumulator(
            endpoint, probe, sample=job.sample, repeat=job.repeat, count_tokens=self.count_tokens
        )
        started = time.time()
        self._emit(RequestStarted(job))
        caps = self.plan.capabilities.get(endpoint.name)
        if caps is not None and not caps.allows(probe):
            lacking = ", ".join(sorted(caps.missing() & probe_features(probe)))
            acc.feed(
                _failure(
                    "unsupported",
                    f"{endpoint.name} declared no {lacking} support (vvtui endpoints check); "
                    "not sent",
                    acc,
                )
            )
            result = acc.result()
            result.started_at = started
            self._record(result)
            return
        live = self.on_event is not None
        cancelled = False
        try:
            stream = client.stream(probe, sample=job.sample)
            try:
                async for event in stream:
                    acc.feed(event)
                    if live and isinstance(event, _LIVE_EVENTS):
                        self._emit(StreamEvent(job, event))
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()
        except asyncio.CancelledError:
            cancelled = True
            acc.feed(_failure("cancelled", "run cancelled before this answer finished", acc))
        except Exception as exc:  # a bug in a client must cost one result, not the run
            acc.feed(_failure("internal", f"{type(exc).__name__}: {exc}", acc))
        result = acc.result()
        result.started_at = started
        if result.upstream_provider and provider_mismatch(endpoint, result.upstream_provider):
            # A router served this from another host than the one pinned: the answer may be fine,
            # but it is not evidence about the pinned provider.
            result.flags.append("provider_mismatch")
        self._record(result)
        if cancelled:
            raise asyncio.CancelledError

    def _record(self, result: Result) -> None:
        self.results.append(result)
        self._done += 1
        if self.on_result is not None:
            self.on_result(result)
        self._emit(ResultReady(result, self._done, self._total))
        if self.gate is not None:
            self.gate.observe(result)


def _endpoint_http_client(endpoint: EndpointConfig) -> Any:
    """One connection pool per endpoint, sized to its concurrency, so a slow endpoint cannot
    starve the others of connections."""
    from vvtui.clients import new_http_client

    return new_http_client(
        max_connections=endpoint.max_concurrency,
        connect_timeout_s=min(10.0, endpoint.timeout_s),
        stall_timeout_s=endpoint.stall_timeout_s,
    )


def _failure(kind: str, message: str, acc: Any) -> ClientEvent:
    partial = bool(acc.has_output)
    return Failed(time.perf_counter(), ErrorInfo(kind, redact(message)), partial=partial)
