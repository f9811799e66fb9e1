"""Shared pieces of the report tests: the committed fixture snapshot, a hostile snapshot whose
every string tries to break out of its format, and golden-file comparison (tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

from tests.golden import check_text_golden
from vvtui.model import EndpointInfo, ErrorInfo, Price, Probe, RunInfo, Snapshot, ToolCall
from vvtui.scoring import score_snapshot
from vvtui.sim.synthetic import make_result
from vvtui.storage import load_snapshot

DATA = Path(__file__).parent / "data" / "reports"
FIXTURE = DATA / "quick.json"
# A secret the hostile snapshot's error message echoes: reports must never show it.
SECRET = "sk-test-0123456789abcdefghijklmnop"
XSS = "<script>alert('pwned')</script>"


def fixture() -> Snapshot:
    """tests/data/reports/quick.json: the quick suite, five simulated endpoints with every
    verdict between them (made by scripts/make_report_fixture.py)."""
    return load_snapshot(FIXTURE)


def hostile(scored: bool = True) -> Snapshot:
    """Endpoint names, probe ids, answers and errors full of markup and a leaked key."""
    bad_name = 'evil"><img src=x onerror=alert(1)>'
    eps = [
        EndpointInfo("ref", "m", "http://x/ref/v1", reference=True, price=Price(1, 2)),
        EndpointInfo(bad_name, "m<b>", "http://x/evil/v1", price=Price(0.5, 1)),
        EndpointInfo("=cmd|' /C calc'!A0", "m", "http://x/csv/v1", price=Price(0.5, 1)),
    ]
    probes = [
        Probe(
            id=f"p{i}<i>|*",
            messages=[{"role": "user", "content": "Say ``` </pre><script>x()</script>"}],
            answer="fine",
            description="a *probe* | with `ticks`",
        )
        for i in range(6)
    ]
    results = []
    for i, p in enumerate(probes):
        results.append(make_result("ref", p.id, ["The", " answer", " is", " fine", "."]))
        results.append(make_result(bad_name, p.id, ["The", " answer", " is", " ", XSS, " |x|"]))
        if i == 0:
            failed = make_result(eps[2].name, p.id, [], ttft_s=None, finish_reason=None)
            failed.error = ErrorInfo("api", f"401 invalid key {SECRET}", 401)
            results.append(failed)
        else:
            results.append(make_result(eps[2].name, p.id, ['=HYPERLINK("http://x")']))
    results[1].tool_calls = [ToolCall(0, "f<script>", '{"a": "</td><script>"}')]
    snap = Snapshot(
        "0.1.0",
        "2025-01-01T00:00:00+00:00",
        RunInfo(seed=3, suites=["<b>suite</b>"], complete=True, command="run"),
        eps,
        probes,
        results,
    )
    if scored:
        snap.scores = score_snapshot(snap).to_dict()
    return snap


def check_golden(name: str, text: str) -> None:
    """Compare with tests/data/reports/<name> the portable way (tests/golden.py);
    VVTUI_UPDATE_GOLDEN=1 rewrites it instead."""
    check_text_golden(DATA / name, text)
