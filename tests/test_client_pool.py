"""A request that ends badly must give its connection back to the pool.

Regression: after the simulator's `midstream_error` fault the body pump was cancelled while httpx
was closing the response; httpcore then never released the request, and with a pool of N
connections every request after the N-th waited for a free connection until its header timeout
(60 s each by default). Endpoint timeouts here are short, so a leak shows as `timeout` results
instead of the `api` error the fault produces; the pytest timeout is only a guard.
"""

from __future__ import annotations

import pytest

from tests.fakes import collect, probe
from vvtui.clients import make_client, new_http_client
from vvtui.clients.accumulate import Accumulator
from vvtui.clients.retry import RetryPolicy
from vvtui.config import EndpointConfig
from vvtui.runner.core import Runner
from vvtui.runner.plan import RunPlan
from vvtui.sim.profiles import Profile

SPEED = dict(ttft_s=0.005, tokens_per_s=2000.0, jitter=0.0)
ANSWER = "one two three four five six seven eight nine ten"


def endpoint(server, profile: str, **overrides) -> EndpointConfig:
    fields = dict(
        name=profile,
        base_url=f"{server.url}/{profile}/v1",
        model="vv-sim-8b",
        simulated=True,
        timeout_s=3.0,
        stall_timeout_s=3.0,
        max_retries=0,
    )
    return EndpointConfig(**{**fields, **overrides})


def probes(n: int):
    # The fault strikes after 2 tokens, so every broken answer is partial (ANSWER is longer).
    return [probe(id=f"p{i}", answer=f"{ANSWER} {i}") for i in range(n)]


@pytest.fixture
def server(sim_server_factory):
    return sim_server_factory(
        [
            Profile("broken", "midstream errors", fault="midstream_error:2", **SPEED),
            Profile("healthy", "fine", **SPEED),
        ]
    )


@pytest.mark.timeout(60)
async def test_midstream_errors_do_not_leak_connections(server):
    broken, healthy = endpoint(server, "broken"), endpoint(server, "healthy")
    # One connection for both endpoints: a single leaked request would block everything after it.
    async with new_http_client(max_connections=1) as http:
        for ep in (broken, broken, broken, healthy, broken, healthy):
            the_probe = probe(answer=ANSWER)
            events = await collect(make_client(ep, http, retry=RetryPolicy()).stream(the_probe))
            acc = Accumulator(ep, the_probe)
            for event in events:
                acc.feed(event)
            result = acc.result()
            if ep is broken:
                assert result.error is not None and result.error.kind == "api", result.error
                assert result.truncated and result.text  # the two tokens before the error
            else:
                assert result.error is None, result.error
                assert result.text == ANSWER and result.finish_reason == "stop"


@pytest.mark.timeout(60)
async def test_a_run_with_midstream_errors_finishes_with_every_answer(server):
    eps = [
        endpoint(server, "healthy", reference=True, max_concurrency=2),
        endpoint(server, "broken", max_concurrency=2),
    ]
    plan = RunPlan(eps, probes(10), reference_repeats=0, max_concurrency=4)
    results = await Runner(plan).run()
    assert len(results) == 20
    by_endpoint = {
        name: [r for r in results if r.endpoint == name] for name in ("healthy", "broken")
    }
    assert all(r.error is None and r.text.startswith(ANSWER) for r in by_endpoint["healthy"])
    kinds = [r.error.kind if r.error else None for r in by_endpoint["broken"]]
    assert kinds == ["api"] * 10
