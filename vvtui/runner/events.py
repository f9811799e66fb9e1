"""Events the runner emits. Front ends (the TUI, the headless CLI) render them; the runner knows
nothing of either."""

from __future__ import annotations

from dataclasses import dataclass, field

from vvtui.clients.events import ClientEvent
from vvtui.model import Result, Verdict


@dataclass(slots=True, frozen=True)
class JobKey:
    endpoint: str
    probe_id: str
    sample: int = 0
    repeat: int = 0

    def as_tuple(self) -> tuple[str, str, int, int]:
        return (self.endpoint, self.probe_id, self.sample, self.repeat)


@dataclass(slots=True)
class RunStarted:
    total: int
    per_endpoint: dict[str, int]
    # Results already present (resumed runs) — the front end shows them before new ones arrive.
    resumed: list[Result] = field(default_factory=list)


@dataclass(slots=True)
class RequestStarted:
    key: JobKey


@dataclass(slots=True)
class StreamEvent:
    """A client event for a request in flight (text deltas, retries...), for live display."""

    key: JobKey
    event: ClientEvent


@dataclass(slots=True)
class ResultReady:
    result: Result
    done: int
    total: int


@dataclass(slots=True)
class EndpointState:
    """An endpoint's circuit breaker opened (`down`) or closed again (vvtui.runner.breaker)."""

    endpoint: str
    down: bool
    reason: str  # "3 consecutive stalls"


@dataclass(slots=True)
class RunFinished:
    cancelled: bool
    done: int
    total: int


@dataclass(slots=True)
class ConformanceReady:
    """The conformance checks sent before the probes have been judged: records by endpoint
    (vvtui.scoring.conformance.record), plus the requests they took."""

    records: dict[str, dict]
    reference: str = ""
    # Why there are none, when the checks could not run (one line).
    note: str = ""


@dataclass(slots=True)
class EndpointStopped:
    """--until-decided: the endpoint receives no more probes (vvtui.scoring.decide reasons)."""

    endpoint: str
    reason: str
    after_probes: int
    requests: int
    cost_usd: float | None
    verdict: Verdict


RunEvent = (
    RunStarted
    | RequestStarted
    | StreamEvent
    | ResultReady
    | EndpointState
    | RunFinished
    | ConformanceReady
    | EndpointStopped
)
