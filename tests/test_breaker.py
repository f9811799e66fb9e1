"""The per-endpoint circuit breaker: its rules alone, then in the runner with stub clients (the
simulator version is the fault matrix, tests/test_faults_e2e.py)."""

from __future__ import annotations

import asyncio
import time

from vvtui.clients.events import Failed, Finish, RequestSent, ResponseHeaders, TextDelta
from vvtui.config import EndpointConfig, parse_config
from vvtui.model import ErrorInfo, Probe
from vvtui.runner.breaker import Breaker, transport_kind
from vvtui.runner.core import Runner
from vvtui.runner.events import EndpointState, RunEvent
from vvtui.runner.plan import RunPlan

STALL = ErrorInfo("stall", "no bytes for 1 s")
TIMEOUT = ErrorInfo("timeout", "no response headers")


def test_transport_kinds():
    assert transport_kind(None) is None
    assert transport_kind(STALL) == "stall"
    assert transport_kind(ErrorInfo("dns", "x")) == "dns"
    assert transport_kind(ErrorInfo("api", "x", 503)) == "5xx"
    assert transport_kind(ErrorInfo("http", "x", 502)) == "5xx"
    # A host that answers 4xx, a bad answer or a missing key is alive.
    for kind, status in (("api", 400), ("rate_limited", 429), ("protocol", None), ("config", None)):
        assert transport_kind(ErrorInfo(kind, "x", status)) is None


def test_opens_after_n_consecutive_failures_of_one_kind():
    b = Breaker(down_after=3, retry_s=30)
    assert b.record(STALL, 0) is None
    assert b.record(STALL, 1) is None
    assert b.admit(1) == "send"
    assert b.record(STALL, 2) == "down"
    assert b.down and b.reason == "3 consecutive stalls"
    assert b.not_sent_error() == ErrorInfo(
        "down", "not sent: endpoint down after 3 consecutive stalls"
    )
    assert b.admit(10) == "wait"


def test_another_kind_or_an_answer_breaks_the_streak():
    b = Breaker(down_after=3)
    for error in (STALL, STALL, TIMEOUT, STALL, STALL, None, STALL, STALL):
        assert b.record(error, 0) is None
    assert not b.down
    b.record(ErrorInfo("api", "bad request", 400), 0)
    assert b.streak == 0


def test_zero_never_opens_nor_limits():
    b = Breaker(down_after=0)
    for _ in range(20):
        assert b.admit(0) == "send"
        assert b.record(STALL, 0) is None
    assert [b.admit(0) for _ in range(4)] == ["send"] * 4


def test_half_open_trial_brings_it_back_or_keeps_it_down():
    b = Breaker(down_after=2, retry_s=30)
    b.record(TIMEOUT, 0)
    b.record(TIMEOUT, 0)
    assert b.admit(29.9) == "wait"
    assert b.admit(30) == "trial"
    assert b.admit(30) == "wait"  # one trial at a time
    assert b.record(TIMEOUT, 31, trial=True) is None
    assert b.down and b.admit(60) == "wait" and b.admit(61) == "trial"
    assert b.record(None, 62, trial=True) == "up"
    assert not b.down and b.admit(62) == "send"
    assert b.times_down == 1


def test_an_answer_in_flight_while_down_closes_it():
    b = Breaker(down_after=1)
    assert b.record(STALL, 0) == "down"
    assert b.record(None, 1) == "up"


def test_config_keys():
    text = (
        '[[endpoint]]\nname = "a"\nbase_url = "http://127.0.0.1:1/v1"\nmodel = "m"\n'
        "down_after = 5\ndown_retry_s = 12.5\n"
    )
    ep = parse_config(text).endpoints[0]
    assert (ep.down_after, ep.down_retry_s) == (5, 12.5)
    default = EndpointConfig("b", "http://x/v1", "m")
    assert (default.down_after, default.down_retry_s) == (3, 30.0)


# ---------------------------------------------------------------------------- in the runner


class Scripted:
    """A stub client: each endpoint fails with `kind` (after `delay`) for its first `bad`
    requests, then answers."""

    sent: dict[str, int] = {}
    # Endpoints whose requests after the scripted failures hang instead of answering.
    hang: frozenset[str] = frozenset()

    def __init__(self, endpoint: EndpointConfig, script: dict[str, tuple[str, int, float]]):
        self.endpoint = endpoint
        self.kind, self.bad, self.delay = script.get(endpoint.name, ("", 0, 0.0))

    async def stream(self, probe: Probe, *, sample: int = 0):
        name = self.endpoint.name
        n = Scripted.sent[name] = Scripted.sent.get(name, 0) + 1
        yield RequestSent(time.perf_counter())
        await asyncio.sleep(self.delay)
        if n <= self.bad:
            yield Failed(time.perf_counter(), ErrorInfo(self.kind, f"{self.kind} failure"))
            return
        if name in Scripted.hang:
            await asyncio.sleep(60)
        yield ResponseHeaders(time.perf_counter(), 200)
        yield TextDelta(time.perf_counter(), "42")
        yield Finish(time.perf_counter(), "stop")


def run(script, *, n_probes=12, concurrency=1, retry_s=30.0, slow_reference=0.0):
    Scripted.sent = {}
    names = ["ref", "dead", "ok"]
    eps = [
        EndpointConfig(
            n, "http://127.0.0.1:9/v1", "m", reference=n == "ref", max_concurrency=concurrency
        )
        for n in names
    ]
    for e in eps:
        e.down_retry_s = retry_s
    probes = [
        Probe(id=f"p{i}", messages=[{"role": "user", "content": "q"}]) for i in range(n_probes)
    ]
    plan = RunPlan(eps, probes, reference_repeats=0)
    events: list[RunEvent] = []
    if slow_reference:
        script = {**script, "ref": ("", 0, slow_reference)}
    runner = Runner(
        plan,
        on_event=events.append,
        client_factory=lambda e, http: Scripted(e, script),
        http_factory=lambda e: None,
    )
    results = asyncio.run(asyncio.wait_for(runner.run(), 30))
    return results, events


def test_a_dead_endpoint_costs_three_requests_not_one_per_probe():
    results, events = run({"dead": ("stall", 999, 0.01)})
    assert Scripted.sent["dead"] == 3
    dead = [r for r in results if r.endpoint == "dead"]
    assert len(dead) == 12  # every job still has a result
    kinds = [r.error.kind for r in dead if r.error]
    assert kinds.count("stall") == 3 and kinds.count("down") == 9
    down = [r for r in dead if r.error and r.error.kind == "down"]
    assert down[0].error.message == "not sent: endpoint down after 3 consecutive stalls"
    assert all(r.error is None for r in results if r.endpoint != "dead")
    states = [e for e in events if isinstance(e, EndpointState)]
    assert states == [EndpointState("dead", True, "3 consecutive stalls")]


def test_a_half_open_trial_brings_an_endpoint_back_while_the_run_goes_on():
    # The reference is slow enough for the 0.2 s wait to pass: the trial answers.
    results, events = run({"dead": ("timeout", 3, 0.01)}, retry_s=0.2, slow_reference=0.05)
    dead = [r for r in results if r.endpoint == "dead"]
    assert len(dead) == 12
    assert all(r.error is None for r in dead[3:]), [r.error for r in dead]
    states = [e for e in events if isinstance(e, EndpointState)]
    assert [s.down for s in states] == [True, False]


def test_concurrent_workers_park_and_all_jobs_are_recorded():
    results, _ = run({"dead": ("connect", 999, 0.02)}, concurrency=4, n_probes=20)
    dead = [r for r in results if r.endpoint == "dead"]
    assert len(dead) == 20 and len({r.probe_id for r in dead}) == 20
    # The four in flight when the third failure came back may all have been sent.
    assert 3 <= Scripted.sent["dead"] <= 4 + 2


def test_one_request_at_a_time_while_a_streak_runs():
    b = Breaker(down_after=3)
    assert [b.admit(0) for _ in range(3)] == ["send"] * 3  # healthy: as many as allowed
    b.record(STALL, 0)
    assert b.in_flight == 2 and b.admit(0) == "wait"
    b.record(STALL, 0)
    b.record(None, 0)  # an answer ends the streak
    assert b.in_flight == 0 and b.admit(0) == "send" and b.admit(0) == "send"


def test_a_trial_that_outlives_the_rest_of_the_run_is_abandoned():
    # Three quick failures, then the trial hangs a minute; the others finish in under a second
    # (the 30 s wait_for in run() would fail the test if the trial held the run).
    Scripted.hang = frozenset({"dead"})
    try:
        results, _ = run({"dead": ("timeout", 3, 0.01)}, retry_s=0.2, slow_reference=0.05)
    finally:
        Scripted.hang = frozenset()
    dead = [r for r in results if r.endpoint == "dead"]
    assert len(dead) == 12 and Scripted.sent["dead"] == 4
    [abandoned] = [r for r in dead if r.error and "trial request" in r.error.message]
    assert abandoned.error.kind == "down"
    assert abandoned.error.message.startswith(
        "trial abandoned: endpoint down after 3 consecutive timeouts"
    )
    assert [r.error.kind for r in dead if r.error].count("down") == 9
