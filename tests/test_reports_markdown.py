import inspect
import re

from tests.report_helpers import SECRET, XSS, check_golden, fixture, hostile
from vvtui.redact import forget_all, remember
from vvtui.reports.data import report_data, stale_reason
from vvtui.reports.markdown import escape, fence, render_markdown


def test_render_markdown_keeps_the_signature_the_tui_calls():
    params = list(inspect.signature(render_markdown).parameters)
    assert params == ["snapshot"]


def test_markdown_golden():
    check_golden("quick.md", render_markdown(fixture()))


def test_markdown_holds_metadata_scoreboard_verdicts_and_side_by_side():
    snap = fixture()
    md = render_markdown(snap)
    for needed in (
        "- **vvtui version**: 0.1.0",
        "- **suites**: quick",
        "- **seed**: 1",
        "as stored in the snapshot",
        "## Scoreboard",
        "## Verdicts",
        "## Worst-diverging probes",
        "## Probe marks",
        "(reference)",
    ):
        assert needed in md
    scores = snap.scores["endpoints"]
    for e in snap.endpoints:
        # Every endpoint has a scoreboard row with its verdict, and a verdict sentence.
        row = next(line for line in md.splitlines() if line.startswith(f"| {e.name}"))
        assert scores[e.name]["verdict"] in row
        assert f"- **{e.name}**: {scores[e.name]['verdict']}" in md or e.reference
    # The int4 digit-copy failure is shown with both answers and the differing digits in bold.
    assert "541**459**289396556469548703" in md
    assert "541**240**289396556469548703" in md
    # No key, no header name's value, no config path.
    assert "VVTUI_FIXTURE_KEY" not in md and "Authorization" not in md


def test_worst_probes_leave_out_errors_and_near_identical_answers():
    data = report_data(fixture())
    worst = data.worst_probes()
    assert worst, "the fixture has diverging candidates"
    assert "tools-weather-basic" not in worst  # every candidate that answered passed it
    damages = [
        max(
            (s.get("damage") or 0)
            for name, s in data.scores.probes[pid].items()
            if name not in ("reference", "slow")
        )
        for pid in worst
    ]
    assert damages == sorted(damages, reverse=True)


def test_model_output_cannot_inject_markup_or_leak_a_key():
    remember(SECRET)
    try:
        md = render_markdown(hostile())
    finally:
        forget_all()
    assert SECRET not in md
    # Prompts sit in fenced code blocks (rendered literally, and fenced longer than any
    # backtick run inside); everywhere else markup arrives as entities.
    assert "````text\nuser: Say ``` </pre><script>x()</script>\n````" in md
    outside = re.sub(r"````text\n.*?\n````", "", md, flags=re.S)
    assert XSS not in outside and "<script" not in outside and "<img" not in outside
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in outside
    # Every table row keeps its column count: pipes in names and answers are escaped.
    for line in md.splitlines():
        if line.startswith("| evil"):
            assert line.count(" | ") == line.replace("\\|", "").count(" | ")


def test_unscored_snapshot_is_scored_and_says_so():
    snap = hostile(scored=False)
    assert stale_reason(snap) == "the snapshot holds no scores"
    md = render_markdown(snap)
    assert "recomputed by this vvtui" in md and "holds no scores" in md
    assert "## Scoreboard" in md


def test_stale_formula_version_is_recomputed():
    snap = hostile()
    snap.scores["meta"]["formula_version"] = 0
    assert "formula v0" in (stale_reason(snap) or "")
    assert "recomputed" in render_markdown(snap)


def test_escape_and_fence():
    assert escape("a|b*c_<d>&") == "a\\|b\\*c\\_&lt;d&gt;&amp;"
    assert escape("x\ny") == "x<br>y"
    block = fence("has ``` inside")
    assert block.startswith("````text\n") and block.endswith("\n````")


def test_every_format_renders_a_run_with_nothing_gathered():
    from vvtui.reports.csv_report import render_csv
    from vvtui.reports.html import render_html

    snap = hostile(scored=False)
    snap.results = []
    snap.run.complete = False
    for _ in range(2):
        md = render_markdown(snap)
        assert "complete**: no" in md and "No candidate diverged" in md
        assert "<!DOCTYPE html>" in render_html(snap)
        assert render_csv(snap).count("\n") == 1  # the header alone
        assert render_csv(snap, "endpoints").count("\n") == 1 + len(snap.endpoints)
        snap.endpoints = []  # and a snapshot without endpoints at all
