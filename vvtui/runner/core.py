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

from vvtui.clients import StreamingClient
from vvtui.clients.events import ClientEvent, Failed, ReasoningDelta, Retrying, TextDelta
from vvtui.clients.events import ToolCallDelta as ToolCallDeltaEvent
from vvtui.config import EndpointConfig
from vvtui.model import ErrorInfo, ErrorKind, Probe, Result
from vvtui.providers.routing import provider_mismatch
from vvtui.redact import redact
from vvtui.runner.breaker import Breaker
from vvtui.runner.events import (
    EndpointState,
    JobKey,
    RequestStarted,
    ResultReady,
    RunEvent,
    RunFinished,
    RunStarted,
    StreamEvent,
)
from vvtui.runner.plan import RunPlan

# How often a worker parked behind a down endpoint looks again when nothing wakes it.
PARKED_POLL_S = 0.5
# Client events worth forwarding to a live front end; the rest only feed the accumulator.
_LIVE_EVENTS = (TextDelta, ReasoningDelta, ToolCallDeltaEvent, Retrying, Failed)


class JobGate(Protocol):
    """Decides, job by job, whether a request is still worth sending (--until-decided:
    vvtui.runner.until_decided)."""

    def bind(self, emit: Callable[[RunEvent], None]) -> None: ...

    async def admit(self, job: JobKey) -> bool: ...

    def observe(self, result: Result) -> None: ...


ClientFactory = Callable[[EndpointConfig, Any], StreamingClient]


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
    _breakers: dict[str, Breaker] = field(default_factory=dict, init=False)
    # Workers that may still send (not parked behind a down endpoint, not finished): when none
    # are left, parked workers stop waiting for a trial and record their jobs as not sent.
    _active: int = field(default=0, init=False)
    _wake: asyncio.Condition | None = field(default=None, init=False)
    # Half-open trial requests in flight, by endpoint: abandoned once nothing else is left.
    _trials: dict[str, asyncio.Task[Result | None]] = field(default_factory=dict, init=False)
    _abandoned: set[str] = field(default_factory=set, init=False)

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
        self._wake = asyncio.Condition()
        self._breakers = {
            e.name: Breaker(down_after=e.down_after, retry_s=e.down_retry_s)
            for e in self.plan.endpoints
        }
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
                    self._active += 1
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
        try:
            while not self.cancelled:
                try:
                    job = pending.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if self.gate is not None and not await self.gate.admit(job):
                    self._total -= 1  # not needed: the endpoint is decided or out of budget
                    continue
                probe = probes[job.probe_id]
                admitted = await self._admit(endpoint)
                if self.cancelled:
                    return
                if admitted == "skip":
                    breaker = self._breakers[endpoint.name]
                    self._not_sent(endpoint, job, probe, breaker.not_sent_error())
                    continue
                async with overall:
                    if self.cancelled:
                        return
                    if admitted == "trial":
                        result = await self._trial(endpoint, client, job, probe)
                    else:
                        result = await self._execute(endpoint, client, job, probe)
                breaker = self._breakers[endpoint.name]
                if result is None:
                    breaker.release(trial=admitted == "trial")
                    await self._notify()
                elif admitted == "trial" and endpoint.name in self._abandoned:
                    self._abandoned.discard(endpoint.name)
                    breaker.release(trial=True, now=time.monotonic())
                else:
                    await self._judge(endpoint.name, result, trial=admitted == "trial")
        finally:
            self._active -= 1
            await self._notify()

    async def _trial(
        self, endpoint: EndpointConfig, client: StreamingClient, job: JobKey, probe: Probe
    ) -> Result | None:
        """The half-open request of a down endpoint. It does not hold the run: once no other
        worker may send, it is abandoned (and recorded as not answered, kind "down")."""
        task = asyncio.create_task(self._execute(endpoint, client, job, probe))
        # Let it start: a task cancelled before its first step would record nothing.
        await asyncio.sleep(0)
        self._trials[endpoint.name] = task
        self._active -= 1
        try:
            await self._notify()
            return await task
        finally:
            self._active += 1
            self._trials.pop(endpoint.name, None)

    def _abandon_trials(self) -> None:
        for name, task in self._trials.items():
            if not task.done() and name not in self._abandoned:
                self._abandoned.add(name)
                task.cancel()

    async def _notify(self) -> None:
        if self._active <= 0 and not self.cancelled:
            self._abandon_trials()
        if self._wake is not None:
            async with self._wake:
                self._wake.notify_all()

    async def _admit(self, endpoint: EndpointConfig) -> str:
        """ "send", "trial" (the half-open request of a down endpoint) or "skip" (down, and
        nothing else in the run is left to wait for). Parks while the endpoint is down, or while
        the one request a failure streak allows is in flight."""
        breaker = self._breakers[endpoint.name]
        wake = self._wake
        assert wake is not None
        parked = False
        try:
            while True:
                now = time.monotonic()
                others = self._active - (0 if parked else 1)
                if breaker.down and others <= 0:
                    # Only down endpoints are left: a trial now would hold the run.
                    return "skip"
                admitted = breaker.admit(now)
                if admitted != "wait":
                    return admitted
                if not parked:
                    parked = True
                    self._active -= 1
                    await self._notify()
                if self.cancelled:
                    return "skip"
                if breaker.down and self._active <= 0:
                    continue  # the check above, now that this worker is parked
                timeout = PARKED_POLL_S
                if breaker.state == "down":
                    timeout = min(timeout, max(0.01, breaker.retry_at - now))
                async with wake:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout)
        finally:
            if parked:
                self._active += 1

    async def _judge(self, name: str, result: Result, *, trial: bool) -> None:
        """Feed one outcome to the endpoint's breaker; announce it going down or coming back."""
        breaker = self._breakers[name]
        change = breaker.record(result.error, time.monotonic(), trial=trial)
        if change is not None:
            self._emit(EndpointState(name, down=change == "down", reason=breaker.reason))
        # Parked workers wait for this: a trial's outcome, or the one request of a streak.
        await self._notify()

    def _not_sent(
        self, endpoint: EndpointConfig, job: JobKey, probe: Probe, error: ErrorInfo
    ) -> None:
        """Record a job that was never sent (declared unsupported, endpoint down)."""
        from vvtui.clients.accumulate import Accumulator

        acc = Accumulator(
            endpoint, probe, sample=job.sample, repeat=job.repeat, count_tokens=self.count_tokens
        )
        started = time.time()
        self._emit(RequestStarted(job))
        acc.feed(_failure(error.kind, error.message, acc))
        result = acc.result()
        result.started_at = started
        self._record(result)

    async def _execute(
        self, endpoint: EndpointConfig, client: StreamingClient, job: JobKey, probe: Probe
    ) -> Result | None:
        """Send one job and record its result; None when it was not sent."""
        from vvtui.clients.accumulate import Accumulator
        from vvtui.features import probe_features

        caps = self.plan.capabilities.get(endpoint.name)
        if caps is not None and not caps.allows(probe):
            lacking = ", ".join(sorted(caps.missing() & probe_features(probe)))
            message = (
                f"{endpoint.name} refused {lacking} (vvtui endpoints check, or declared in the "
                "config)"
            )
            self._not_sent(endpoint, job, probe, ErrorInfo("unsupported", f"{message}; not sent"))
            return None
        acc = Accumulator(
            endpoint, probe, sample=job.sample, repeat=job.repeat, count_tokens=self.count_tokens
        )
        started = time.time()
        self._emit(RequestStarted(job))
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
            if not self.cancelled and endpoint.name in self._abandoned:
                # A trial that outlived the rest of the run: the endpoint stays down.
                reason = self._breakers[endpoint.name].reason
                message = (
                    f"trial abandoned: endpoint down after {reason}, and this trial request had "
                    "no answer when the rest of the run was done"
                )
                acc.feed(_failure("down", message, acc))
            else:
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
        return result

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


def _failure(kind: ErrorKind, message: str, acc: Any) -> ClientEvent:
    partial = bool(acc.has_output)
    return Failed(time.perf_counter(), ErrorInfo(kind, redact(message)), partial=partial)
