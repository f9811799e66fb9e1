"""Nothing lost when vvtui itself is in trouble: an unwritable output, a full disk mid-run or at
the end, a scoring bug, a crashing callback. Stub clients, no network."""

from __future__ import annotations

import asyncio
import errno
import json
import time
from pathlib import Path

import pytest

from vvtui.clients.events import Finish, RequestSent, ResponseHeaders, TextDelta, Usage
from vvtui.config import EndpointConfig
from vvtui.errors import SnapshotError
from vvtui.model import Probe, RunInfo
from vvtui.runner.events import ResultReady
from vvtui.runner.plan import RunPlan, load_partial
from vvtui.runner.session import RunSession
from vvtui.runner.wal import WriteAheadLog, wal_path_for

CALLS: list[str] = []


class Stub:
    def __init__(self, endpoint: EndpointConfig, http: object) -> None:
        self.endpoint = endpoint

    async def stream(self, probe: Probe, *, sample: int = 0):
        CALLS.append(f"{self.endpoint.name}/{probe.id}")
        yield RequestSent(time.perf_counter())
        yield ResponseHeaders(time.perf_counter(), 200)
        await asyncio.sleep(0.001)
        yield TextDelta(time.perf_counter(), "answer")
        yield Usage(time.perf_counter(), input_tokens=3, output_tokens=1)
        yield Finish(time.perf_counter(), "stop")


def plan() -> RunPlan:
    endpoints = [
        EndpointConfig(f"e{i}", f"http://127.0.0.1:9/e{i}/v1", "m", reference=i == 0)
        for i in range(2)
    ]
    probes = [Probe(id=f"p{i}", messages=[{"role": "user", "content": "q"}]) for i in range(4)]
    return RunPlan(endpoints, probes, reference_repeats=0)


def session(out: Path | None, **kw) -> RunSession:
    kw.setdefault("score", False)
    return RunSession(
        plan(), RunInfo(seed=1), out=out, client_factory=Stub, http_factory=lambda e: None, **kw
    )


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


@pytest.mark.parametrize("where", ["directory", "under-a-file"])
async def test_unwritable_output_fails_before_the_first_request(tmp_path: Path, where: str):
    if where == "directory":
        out = tmp_path / "out.json"
        out.mkdir()
        expected = "is a directory"
    else:
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "snap.json"
        expected = "cannot write there"
    with pytest.raises(SnapshotError, match=expected) as info:
        await session(out).run()
    assert "\n" not in str(info.value)
    assert CALLS == []


async def test_a_log_that_cannot_be_written_mid_run_costs_nothing(tmp_path: Path, monkeypatch):
    writes = {"n": 0}
    original = WriteAheadLog._write

    def flaky(self, record):
        writes["n"] += 1
        if writes["n"] > 3:  # the header and two results, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, record)

    monkeypatch.setattr(WriteAheadLog, "_write", flaky)
    out = tmp_path / "snap.json"
    snapshot = await session(out).run()
    assert snapshot.run.complete and len(snapshot.results) == 8
    assert len(json.loads(out.read_text())["results"]) == 8
    assert not wal_path_for(out).exists()


async def test_a_snapshot_that_cannot_be_written_keeps_the_log(tmp_path: Path, monkeypatch):
    def full(snapshot, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("vvtui.runner.session.save_snapshot", full)
    out = tmp_path / "snap.json"
    with pytest.raises(SnapshotError) as info:
        await session(out).run()
    message = str(info.value)
    assert "No space left on device" in message and str(wal_path_for(out)) in message
    assert f"--resume {out}" in message
    assert len(load_partial(out).results) == 8  # every result, from the log


async def test_a_scoring_bug_still_writes_the_results(tmp_path: Path, monkeypatch):
    def broken(snapshot):
        raise ZeroDivisionError("scoring bug")

    monkeypatch.setattr("vvtui.scoring.score_snapshot", broken)
    out = tmp_path / "snap.json"
    with pytest.raises(ZeroDivisionError):
        await session(out, score=True).run()
    data = json.loads(out.read_text())
    assert len(data["results"]) == 8 and data["scores"] == {} and data["run"]["complete"]
    assert not wal_path_for(out).exists()


async def test_a_crashing_callback_is_reported_and_the_run_marked_incomplete(tmp_path: Path):
    def on_event(event):
        if isinstance(event, ResultReady) and event.result.endpoint == "e1":
            raise RuntimeError("front end bug")

    out = tmp_path / "snap.json"
    with pytest.raises(RuntimeError, match="front end bug"):
        await session(out, on_event=on_event).run()
    data = json.loads(out.read_text())
    assert data["run"]["complete"] is False
    # e0 is whole; e1's worker died after recording its first result, which is kept.
    assert sorted(r["probe_id"] for r in data["results"] if r["endpoint"] == "e0") == [
        "p0",
        "p1",
        "p2",
        "p3",
    ]
    assert any(r["endpoint"] == "e1" for r in data["results"])
