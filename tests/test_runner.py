"""The runner and run session with in-process stub clients: scheduling, bounds, independence,
cancellation, the write-ahead log and resuming. (End-to-end runs over real HTTP against the
simulator live in test_pipeline.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time
from collections import defaultdict
from pathlib import Path

import pytest

from vvtui.clients.events import Finish, RequestSent, ResponseHeaders, TextDelta, Usage
from vvtui.config import EndpointConfig
from vvtui.model import Probe, RunInfo
from vvtui.runner.core import Runner
from vvtui.runner.events import ResultReady, RunFinished, RunStarted
from vvtui.runner.plan import RunPlan, load_partial, plan_from_snapshot
from vvtui.runner.session import RunSession
from vvtui.runner.wal import read_wal, wal_path_for


def endpoints(n: int = 3, concurrency: int = 2) -> list[EndpointConfig]:
    return [
        EndpointConfig(
            name=f"e{i}",
            base_url=f"http://127.0.0.1:9/e{i}/v1",
            model="m",
            reference=(i == 0),
            max_concurrency=concurrency,
        )
        for i in range(n)
    ]


def probes(n: int = 6) -> list[Probe]:
    return [Probe(id=f"p{i}", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(n)]


class StubClient:
    """Streams a fixed answer; tracks concurrency; can fail or hang on demand."""

    inflight: dict[str, int] = defaultdict(int)
    peak: dict[str, int] = defaultdict(int)
    calls: list[tuple[str, str, int]] = []

    def __init__(
        self,
        endpoint: EndpointConfig,
        http: object,
        *,
        delay: float = 0.005,
        fail: bool = False,
        hang: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.delay = delay
        self.fail = fail
        self.hang = hang

    async def stream(self, probe: Probe, *, sample: int = 0):
        name = self.endpoint.name
        StubClient.calls.append((name, probe.id, sample))
        StubClient.inflight[name] += 1
        StubClient.peak[name] = max(StubClient.peak[name], StubClient.inflight[name])
        try:
            yield RequestSent(time.perf_counter())
            if self.fail:
                raise RuntimeError("stub endpoint exploded")
            yield ResponseHeaders(time.perf_counter(), 200)
            for word in ("The ", "answer ", "is ", "42"):
                await asyncio.sleep(self.delay)
                yield TextDelta(time.perf_counter(), word)
                if self.hang:
                    await asyncio.sleep(3600)
            yield Usage(time.perf_counter(), input_tokens=5, output_tokens=4)
            yield Finish(time.perf_counter(), "stop")
        finally:
            StubClient.inflight[name] -= 1


@pytest.fixture(autouse=True)
def _reset_stub():
    StubClient.inflight.clear()
    StubClient.peak.clear()
    StubClient.calls.clear()


def factory(**behaviour):
    def make(endpoint, http):
        return StubClient(endpoint, http, **behaviour.get(endpoint.name, {}))

    return make


def no_http(endpoint):
    return None


async def test_every_job_runs_once_within_bounds():
    plan = RunPlan(endpoints(3, concurrency=2), probes(6), reference_repeats=1, max_concurrency=4)
    events = []
    runner = Runner(plan, on_event=events.append, client_factory=factory(), http_factory=no_http)
    results = await runner.run()
    # 6 probes x 3 endpoints + 6 reference repeats
    assert len(results) == 24
    assert len({r.key for r in results}) == 24
    assert sum(r.repeat for r in results) == 6
    assert all(r.text == "The answer is 42" and r.error is None for r in results)
    assert max(StubClient.peak.values()) <= 2
    assert isinstance(events[0], RunStarted) and events[0].total == 24
    assert isinstance(events[-1], RunFinished) and not events[-1].cancelled
    assert [e.done for e in events if isinstance(e, ResultReady)] == list(range(1, 25))


async def test_sampled_probes_fan_out_samples():
    sampled = Probe(id="s", kind="sampled", temperature=1.0, n_samples=4)
    plan = RunPlan(endpoints(2), [sampled], reference_repeats=2)
    results = await Runner(plan, client_factory=factory(), http_factory=no_http).run()
    # not deterministic: no reference repeats
    assert sorted((r.endpoint, r.sample) for r in results) == [
        (e, s) for e in ("e0", "e1") for s in range(4)
    ]


async def test_one_failing_endpoint_leaves_others_whole():
    plan = RunPlan(endpoints(3), probes(4), reference_repeats=0)
    runner = Runner(plan, client_factory=factory(e1={"fail": True}), http_factory=no_http)
    results = await runner.run()
    by = defaultdict(list)
    for r in results:
        by[r.endpoint].append(r)
    assert all(r.error is None for r in by["e0"] + by["e2"]) and len(by["e0"]) == 4
    assert len(by["e1"]) == 4
    assert all(r.error is not None and r.error.kind == "internal" for r in by["e1"])
    assert "stub endpoint exploded" in by["e1"][0].error.message


async def test_cancel_records_partial_answers_and_marks_incomplete(tmp_path: Path):
    plan = RunPlan(endpoints(2, concurrency=1), probes(3), reference_repeats=0)
    out = tmp_path / "snap.json"
    session = RunSession(
        plan,
        RunInfo(seed=1),
        out=out,
        client_factory=factory(e1={"hang": True}),
        http_factory=no_http,
        score=False,
    )
    task = asyncio.create_task(session.run())
    # Let e0 finish everything and e1 hang on its first probe, then cancel like Ctrl-C does.
    for _ in range(200):
        await asyncio.sleep(0.01)
        if session.runner and len([r for r in session.runner.results if r.endpoint == "e0"]) == 3:
            break
    session.cancel()
    snapshot = await asyncio.wait_for(task, 5)
    assert snapshot.run.complete is False
    e0 = [r for r in snapshot.results if r.endpoint == "e0"]
    e1 = [r for r in snapshot.results if r.endpoint == "e1"]
    assert len(e0) == 3 and all(r.error is None for r in e0)
    assert len(e1) == 1 and e1[0].error.kind == "cancelled"
    assert e1[0].truncated and e1[0].text == "The "  # the partial answer is kept
    on_disk = json.loads(out.read_text())
    assert on_disk["run"]["complete"] is False and len(on_disk["results"]) == 4
    assert not wal_path_for(out).exists()


async def test_resume_asks_only_what_is_missing(tmp_path: Path):
    plan = RunPlan(endpoints(2, concurrency=1), probes(3), reference_repeats=0)
    out = tmp_path / "snap.json"
    first = RunSession(
        plan,
        RunInfo(seed=1),
        out=out,
        client_factory=factory(e1={"hang": True}),
        http_factory=no_http,
        score=False,
    )
    task = asyncio.create_task(first.run())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if first.runner and len(first.runner.results) >= 3:
            break
    first.cancel()
    await asyncio.wait_for(task, 5)
    StubClient.calls.clear()

    partial = load_partial(out)
    from vvtui.config import Config

    plan2, info2 = plan_from_snapshot(partial, Config(endpoints(2, concurrency=1)))
    second = RunSession(
        plan2,
        info2,
        out=out,
        resume_from=partial,
        client_factory=factory(),
        http_factory=no_http,
        score=False,
    )
    snapshot = await second.run()
    asked = {(e, p) for e, p, _ in StubClient.calls}
    assert asked == {("e1", "p0"), ("e1", "p1"), ("e1", "p2")}
    assert snapshot.run.complete is True
    assert len(snapshot.results) == 6 and all(r.error is None for r in snapshot.results)


def test_wal_survives_a_torn_last_line(tmp_path: Path):
    from vvtui.model import Result, Snapshot
    from vvtui.runner.wal import WriteAheadLog

    path = tmp_path / "s.json.wal.jsonl"
    wal = WriteAheadLog(path)
    header = Snapshot("0", "now", RunInfo(seed=3), [e.info() for e in endpoints(2)], probes(2))
    wal.open(header.to_dict())
    wal.append(Result(endpoint="e0", probe_id="p0", text="one"))
    wal.append(Result(endpoint="e1", probe_id="p0", text="two"))
    wal.close()
    with open(path, "a") as fh:
        fh.write('{"type": "result", "endpoint": "e0", "probe_')  # killed mid-write
    snapshot = read_wal(path)
    assert [r.text for r in snapshot.results] == ["one", "two"]
    assert snapshot.run.seed == 3 and snapshot.run.complete is False


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permissions")
def test_wal_is_private_like_the_snapshot(tmp_path: Path):
    """The log holds the same answers as the snapshot (mode 0600), whatever the umask, and a log
    an older version left world-readable is narrowed when a resumed run reopens it."""
    from vvtui.model import Result, Snapshot
    from vvtui.runner.wal import WriteAheadLog
    from vvtui.storage import write_atomic

    header = Snapshot("0", "now", RunInfo(seed=3), [e.info() for e in endpoints(1)], probes(1))
    old_umask = os.umask(0o022)
    try:
        fresh = WriteAheadLog(tmp_path / "a.json.wal.jsonl")
        fresh.open(header.to_dict())
        fresh.close()
        old = tmp_path / "b.json.wal.jsonl"
        old.write_text(json.dumps({"type": "header", **header.to_dict()}) + "\n")
        old.chmod(0o644)
        resumed = WriteAheadLog(old)
        resumed.reopen()
        resumed.append(Result(endpoint="e0", probe_id="p0", text="one"))
        resumed.close()
        snapshot = write_atomic(tmp_path / "a.json", "{}")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert [r.text for r in read_wal(old).results] == ["one"]
