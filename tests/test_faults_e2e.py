"""One run through every fault, end to end: simulator → HTTP → client → runner → write-ahead log →
scored snapshot on disk.

A single multi-endpoint run of the fault matrix (tests/faultmatrix.py): two healthy endpoints and
one endpoint per fault (each simulated fault mode, plus a closed port, an unresolvable `.invalid`
host and an unset key variable). The healthy endpoints must come back whole and identical; every
faulty one must be reported the way docs/clients.md says, with a one-line, redacted message; the
snapshot must load back.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faultmatrix import (
    ECHO_KEY_ENV,
    MATRIX,
    PROBES,
    RETRY_AFTER_MS,
    UNSET_ENV,
    endpoint_configs,
    profiles,
)
from vvtui.model import Result, RunInfo, Snapshot
from vvtui.redact import forget_all
from vvtui.runner.plan import RunPlan
from vvtui.runner.session import RunSession
from vvtui.runner.wal import wal_path_for
from vvtui.scoring import count_tokens
from vvtui.sim.faults import FAULTS, WRONG_MODEL
from vvtui.sim.hosts import HOST_FAULTS
from vvtui.sim.server import start_sim
from vvtui.storage import load_snapshot
from vvtui.suites import load_suites

ECHO_KEY = "sk-e2e-echo-8f3a1c9d2b7e4f60a5"


def ok(r: Result) -> None:
    assert r.error is None, r.error
    assert not r.truncated and r.finish_reason in ("stop", "tool_calls")
    assert r.text or r.tool_calls


def failed(kind: str, *, status: int | None = None, attempts: int = 1, partial: bool = False,
           says: tuple[str, ...] = ()) -> Callable[[Result], None]:  # fmt: skip
    def check(r: Result) -> None:
        assert r.error is not None and r.error.kind == kind, r.error
        assert r.error.status == status
        assert r.attempts == attempts
        assert r.truncated is partial
        if partial:
            # Never retried once tokens arrived: the partial answer is what we keep.
            assert r.text or r.tool_calls
        else:
            assert not r.text and not r.tool_calls
        for part in says:
            assert part in r.error.message, (part, r.error.message)

    return check


def flagged(flag: str, *, then: Callable[[Result], None] = ok) -> Callable[[Result], None]:
    def check(r: Result) -> None:
        assert flag in r.flags, r.flags
        then(r)

    return check


def retried_then_ok(min_delay: float, max_delay: float) -> Callable[[Result], None]:
    def check(r: Result) -> None:
        ok(r)
        assert r.attempts == 2
        [wait] = r.extra["retries"]
        assert min_delay <= wait["delay_s"] <= max_delay, wait

    return check


def malformed(r: Result) -> None:
    # Three bad events: tolerated on a long stream, a protocol failure on a short one; either
    # way flagged, and the good chunks' answer is kept.
    assert "malformed_chunks" in r.flags
    if r.error is None:
        ok(r)
    else:
        assert r.error.kind == "protocol" and "malformed" in r.error.message and r.truncated


def invalid_utf8(r: Result) -> None:
    ok(r)
    # The simulator corrupts the second text token: only multi-token text answers carry it.
    if r.tokens is not None and len(r.tokens) >= 2:
        assert "invalid_utf8" in r.flags and "\ufffd" in r.text


def u2028(r: Result) -> None:
    ok(r)
    if r.tokens is not None and len(r.tokens) >= 2:
        assert "\u2028" in r.text


def oversized(r: Result) -> None:
    assert r.error is None and r.truncated and r.finish_reason == "length"
    assert "output_capped" in r.flags
    assert 4096 < len(r.text.encode()) <= 4096 + 8192  # stopped within a chunk or two of the cap


def wrong_model(r: Result) -> None:
    flagged("model_mismatch")(r)
    assert r.model_answered == WRONG_MODEL


def echo_auth(r: Result) -> None:
    failed("api", status=401, says=("authorization: Bearer [REDACTED]",))(r)
    assert ECHO_KEY not in r.error.message


def echo_stream(r: Result) -> None:
    flagged("secret_redacted")(r)
    assert ECHO_KEY not in r.text and "[REDACTED]" in r.text and r.tokens is None


def missing_key(r: Result) -> None:
    failed("config", says=("missing-key", f"${UNSET_ENV}", f"export {UNSET_ENV}"))(r)


# What each endpoint of the matrix (tests/faultmatrix.py) must report, on every result.
CHECKS: dict[str, Callable[[Result], None]] = {
    "healthy-a": ok,
    "healthy-b": ok,
    # before any response
    "refused": failed(
        "connect", attempts=2, says=("cannot connect to 127.0.0.1", "is the server running?")
    ),
    "dns": failed("dns", says=("cannot resolve vvtui-fault-test.invalid",)),
    "missing-key": missing_key,
    "refuse": failed("connect", attempts=2, says=("closed the connection",)),
    "hang-headers": failed("timeout", says=("no response headers", "0.5 s")),
    "rate-limit": retried_then_ok(RETRY_AFTER_MS / 1000, RETRY_AFTER_MS / 1000),
    "rate-limit-exhausted": failed(
        "rate_limited", status=429, attempts=2, says=("after 2 attempts",)
    ),
    # OpenAI's backoff: 0.5 s minus up to 25 % jitter before the first retry.
    "flaky-5xx": retried_then_ok(0.375, 0.5),
    "http-500": failed("api", status=500, attempts=2, says=("server_error",)),
    "html-error": failed("http", status=502, says=("502 Bad Gateway",)),
    "text-error": failed("http", status=500, says=("Internal Server Error",)),
    "error-body": failed("api", status=400, says=("context_length_exceeded",)),
    "echo-auth": echo_auth,
    # mid-stream
    "stall": failed("stall", partial=True, says=("no bytes for 1 s",)),
    "keepalive-forever": failed("timeout", says=("no complete answer within 1 s",)),
    "midstream-error": failed("api", partial=True, says=("stream error", "Upstream provider")),
    "drop": failed("dropped", partial=True, says=("connection dropped",)),
    "no-done": failed("protocol", partial=True, says=("without finish_reason",)),
    "malformed-sse": malformed,
    "invalid-utf8": invalid_utf8,
    "empty-choices": ok,
    "ignore-stream": flagged("ignored_stream"),
    "oversized": oversized,
    "wrong-model": wrong_model,
    "comments": ok,
    "u2028": u2028,
    "echo-stream": echo_stream,
}
FAULTY = [ep.name for ep in MATRIX if not ep.name.startswith("healthy")]


def test_every_endpoint_has_a_check_and_every_fault_an_endpoint():
    assert list(CHECKS) == [ep.name for ep in MATRIX]
    used = {ep.fault.split(":")[0] for ep in MATRIX if ep.fault and ep.fault != "none"}
    # Hosts that tamper with requests answer normally; conformance catches them
    # (tests/test_conformance.py).
    assert used == set(FAULTS) - set(HOST_FAULTS)


@dataclass
class Run:
    snapshot: Snapshot
    out: Path
    progress: str
    plan: RunPlan


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory) -> Iterator[Run]:
    from vvtui.cli.headless import Progress

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ECHO_KEY_ENV, ECHO_KEY)
        mp.delenv(UNSET_ENV, raising=False)
        server = start_sim(profiles())
        try:
            endpoints = endpoint_configs(server.url)
            probes = [p for p in load_suites(["quick"], 1) if p.id in PROBES]
            assert len(probes) == len(PROBES)
            plan = RunPlan(endpoints, probes, reference_repeats=1, max_concurrency=64)
            out = tmp_path_factory.mktemp("faults") / "snap.json"
            stream = io.StringIO()
            session = RunSession(
                plan,
                RunInfo(seed=1, suites=["quick"]),
                out=out,
                on_event=Progress(stream=stream),
                count_tokens=count_tokens,
            )
            snapshot = asyncio.run(asyncio.wait_for(session.run(), 45))
        finally:
            server.stop()
        yield Run(snapshot, out, stream.getvalue(), plan)
    forget_all()


def results_of(run: Run, name: str) -> list[Result]:
    return [r for r in run.snapshot.results if r.endpoint == name]


def test_healthy_endpoints_are_whole_and_untouched(fault_run: Run):
    a, b = results_of(fault_run, "healthy-a"), results_of(fault_run, "healthy-b")
    assert len(a) == 2 * len(PROBES)  # one pass + one reference repeat (all are deterministic)
    assert len(b) == len(PROBES)
    for r in a + b:
        ok(r)
        assert r.flags == [] and r.attempts == 1
    main_a = {r.probe_id: r for r in a if r.repeat == 0}
    for r in b:
        assert r.text == main_a[r.probe_id].text
        assert [c.arguments for c in r.tool_calls] == [
            c.arguments for c in main_a[r.probe_id].tool_calls
        ]


@pytest.mark.parametrize("name", FAULTY)
def test_faulty_endpoint_is_reported_as_it_should_be(fault_run: Run, name: str):
    results = results_of(fault_run, name)
    assert sorted(r.probe_id for r in results) == sorted(PROBES)
    for r in results:
        CHECKS[name](r)
        if r.error is not None:
            message = r.error.message
            assert message and "\n" not in message and len(message) <= 240
            assert ECHO_KEY not in message


def test_each_failure_cause_is_reported_once_per_endpoint_with_its_count(fault_run: Run):
    from vvtui.runner.tally import cause_label

    lines = fault_run.progress.splitlines()
    causes: dict[tuple[str, str], list[Result]] = {}
    for r in fault_run.snapshot.results:
        if r.error is not None:
            causes.setdefault((r.endpoint, cause_label(r.error)), []).append(r)
    for (endpoint, label), failed in causes.items():
        first = f"vvtui: {endpoint}: {label}: {failed[0].error.message}"
        # The first line as it happened (whichever request failed first), then the count.
        said = [ln for ln in lines if ln.startswith(f"vvtui: {endpoint}: {label}: ")]
        assert len(said) == 1, (first, said)
        if len(failed) > 1:
            counted = [ln for ln in lines if ln.startswith(f"vvtui: {endpoint}: {label} ×")]
            assert counted == [counted[0]] and f" ×{len(failed)}: " in counted[0], counted
    assert ECHO_KEY not in fault_run.progress


def test_snapshot_on_disk_is_complete_and_valid(fault_run: Run):
    out = fault_run.out
    assert not wal_path_for(out).exists()
    text = out.read_text(encoding="utf-8")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert ECHO_KEY not in text
    loaded = load_snapshot(out)
    assert loaded.run.complete is True
    expected = {j.as_tuple() for j in fault_run.plan.jobs()}
    assert {r.key for r in loaded.results} == expected
    assert len(loaded.results) == len(expected)
    assert [e.name for e in loaded.endpoints] == [ep.name for ep in MATRIX]
    assert loaded.to_dict()["results"] == fault_run.snapshot.to_dict()["results"]
    for r in loaded.results:
        assert r.error is None or r.error.kind in _error_kinds()


def _error_kinds() -> tuple[str, ...]:
    from vvtui.model import ERROR_KINDS

    return ERROR_KINDS


def test_scores_cover_every_endpoint_and_count_every_error(fault_run: Run):
    scores = fault_run.snapshot.scores["endpoints"]
    assert list(scores) == [ep.name for ep in MATRIX]
    assert scores["healthy-b"]["fidelity"] == 100.0
    # A missing key is the user's to fix, not the endpoint's fault: not measured.
    assert scores["missing-key"]["n_probes"] == 0 and scores["missing-key"]["fidelity"] is None
    for name, s in scores.items():
        kinds: dict[str, int] = {}
        for r in results_of(fault_run, name):
            if r.error is not None:
                kinds[r.error.kind] = kinds.get(r.error.kind, 0) + 1
        assert s["errors_by_kind"] == kinds, name
