"""One column spec (vvtui.present.columns) for every scoreboard: a key reads the same in the TUI,
the Markdown and HTML reports and the terminal table; "not measured" is – everywhere; one style
table covers every mark and verdict; and the package stays free of Textual and httpx."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report_helpers import fixture
from vvtui.present import columns as spec
from vvtui.present import fmt, styles
from vvtui.reports.data import report_data
from vvtui.reports.html import render_html_data
from vvtui.reports.markdown import escape, render_markdown_data
from vvtui.reports.scoreboard import rows as scoreboard_rows
from vvtui.reports.table import endpoint_rows
from vvtui.scoring import EndpointScore
from vvtui.tui.widgets.scoreboard import cell_texts

ROOT = Path(__file__).resolve().parent.parent


def _markdown_scoreboard(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the Markdown report's scoreboard table."""
    section = text.split("## Scoreboard", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]

    def cells(line: str) -> list[str]:
        # Cells are split on pipes not escaped by the report's escape().
        return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]

    return cells(lines[0]), [cells(line) for line in lines[2:]]


def test_every_front_end_shows_a_key_as_the_spec_does():
    snap = fixture()
    data = report_data(snap)
    rows = {row.name: row for row in scoreboard_rows(data) if row.endpoint is not None}
    assert len(rows) == len(snap.endpoints) >= 3

    md_headers, md_rows = _markdown_scoreboard(render_markdown_data(data))
    assert md_headers == [c.label for c in spec.pick(spec.REPORT_KEYS)]
    term_headers, term_rows, _ = endpoint_rows(snap)
    assert term_headers == [c.label for c in spec.pick(spec.TERMINAL_KEYS)]
    page = render_html_data(data)

    for i, e in enumerate(snap.endpoints):
        row = rows[e.name]
        # The TUI has the score alone; the reports read the same stored score, typed.
        tui = cell_texts(row.score)
        assert tui == spec.texts(spec.ScoreRow(row.score), spec.TUI_KEYS)
        markdown = dict(zip(spec.REPORT_KEYS, md_rows[i], strict=True))
        terminal = dict(zip(spec.TERMINAL_KEYS, term_rows[i], strict=True))
        for key in spec.REPORT_KEYS:
            assert markdown[key] == escape(spec.BY_KEY[key].text(row)), (e.name, key)
            assert f">{html.escape(spec.BY_KEY[key].text(row))}<" in page or key == "verdict"
        for key in spec.TERMINAL_KEYS:
            assert terminal[key] == spec.BY_KEY[key].text(row), (e.name, key)
        # The keys several front ends show read the same in each.
        for key in set(spec.TUI_KEYS) & set(spec.REPORT_KEYS) & set(spec.TERMINAL_KEYS):
            assert tui[key] == terminal[key] == markdown[key].replace("\\", ""), (e.name, key)


def test_the_tui_and_the_reports_format_kl_and_cost_alike():
    score = EndpointScore(
        name="int4", kl_mean=0.012, cost_usd=0.0036, ttft_p50=0.0095, tps_p50=42.34
    )
    tui = cell_texts(score)
    row = spec.ScoreRow(score)
    assert tui["kl"] == spec.BY_KEY["kl"].text(row) == "0.0120"
    assert tui["cost"] == "$0.00360" == spec.BY_KEY["run_cost"].text(row)
    assert tui["ttft"] == "9.5 ms"
    assert tui["tps"] == "42.3"


def test_not_measured_reads_as_a_dash_everywhere():
    row = spec.ScoreRow(EndpointScore(name="x"))
    for column in spec.COLUMNS:
        if column.value(row) is None:
            assert column.text(row) == fmt.MISSING, column.key
    assert cell_texts(row.score)["fidelity"] == fmt.MISSING
    for f in (fmt.num, fmt.ratio, fmt.pct, fmt.ms, fmt.tps, fmt.usd, fmt.kl, fmt.fidelity):
        assert f(None) == "–", f.__name__
    assert fmt.interval(None, 1.0) == "–"
    assert fmt.verdict_cost(0, None) == "–"
    # An endpoint a report has no score for: nothing, not zeros.
    empty = spec.ScoreRow(spec.unscored("x"), scored=False)
    assert spec.BY_KEY["verdict"].text(empty) == "–"
    assert spec.BY_KEY["fidelity_value"].text(empty) == "–"


def test_fixed_widths_hold_the_longest_value():
    widest = {
        "fidelity": fmt.fidelity(100.0, 99.91, 100.0),
        "verdict_glyph": spec.verdict_glyph_text(
            spec.ScoreRow(EndpointScore(name="x", verdict="inconclusive"))
        ),
        "accuracy": fmt.pct(1.0),
        "kl": max(fmt.kl(9.99994), fmt.kl(3.5e-7), key=len),
        "top1": fmt.pct(1.0),
        "ttft": fmt.ms(99.999),
        "tps": fmt.tps(99999.0),
        "cost": fmt.usd(0.0000861),
        "run_cost": fmt.usd(0.0000861) + spec.ESTIMATED,
        "cost_per_pass": fmt.usd(0.0000861),
        "errors": "999",
    }
    for key, text in widest.items():
        width = spec.BY_KEY[key].width
        assert width is not None and len(text) <= max(width, len(spec.BY_KEY[key].header)), key
    # Every key a front end picks exists, once.
    for keys in (spec.TUI_KEYS, spec.REPORT_KEYS, spec.TERMINAL_KEYS):
        assert len(set(keys)) == len(keys)
        spec.pick(keys)
    assert len(spec.BY_KEY) == len(spec.COLUMNS)


def test_sorting_puts_the_best_first_and_not_measured_last():
    scores = [
        EndpointScore(name="a", fidelity=50.0, cost_usd=0.2),
        EndpointScore(name="b", fidelity=None, cost_usd=None),
        EndpointScore(name="c", fidelity=90.0, cost_usd=0.1),
    ]
    rows = [spec.ScoreRow(s) for s in scores]

    def order(key: str) -> list[str]:
        return [r.name for r in sorted(rows, key=spec.BY_KEY[key].sort_key)]

    assert order("fidelity") == ["c", "a", "b"]
    assert order("cost") == ["c", "a", "b"]


def _literals(pattern: str) -> set[str]:
    """Every string literal matching `pattern` in vvtui's source."""
    found: set[str] = set()
    for path in (ROOT / "vvtui").rglob("*.py"):
        found |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return found


def test_the_style_table_covers_every_mark_and_verdict():
    from vvtui.model import MARKS, VERDICTS

    assert set(MARKS) == set(styles.MARKS)
    assert set(VERDICTS) == set(styles.VERDICTS)
    # Any mark or verdict written as a literal anywhere in vvtui is in the table too.
    marks = _literals(r'\bmark\s*(?:==|=|!=)\s*"([a-z ]+)"')
    verdicts = _literals(r'\bverdict\s*(?:==|=|!=)\s*"([a-z ]+)"')
    assert marks and marks <= set(styles.MARKS), marks - set(styles.MARKS)
    assert verdicts and verdicts <= set(styles.VERDICTS), verdicts - set(styles.VERDICTS)
    # Each look names a variable the themes define (or Textual's primary), and the reports
    # have a colour for it.
    from vvtui.reports import palette
    from vvtui.tui.themes import VARIABLE_DEFAULTS

    for look in [*styles.MARKS.values(), *styles.VERDICTS.values()]:
        assert look.glyph
        assert look.var == "primary" or look.var in VARIABLE_DEFAULTS, look
        assert look.var in palette.BY_VAR, look
    assert set(palette.VERDICT) == set(styles.VERDICTS)
    assert set(palette.MARK) == set(styles.MARKS)


@pytest.mark.parametrize("module", ["vvtui.present.columns", "vvtui.present.styles"])
def test_present_imports_neither_textual_nor_httpx(module: str):
    code = (
        f"import {module}, sys; "
        "assert 'textual' not in sys.modules and 'httpx' not in sys.modules, "
        "[m for m in ('textual', 'httpx') if m in sys.modules]"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_terminal_table_reads_typed_scores():
    """A stored score report (a dict) becomes EndpointScore rows before the table renders."""
    snap = fixture()
    row = spec.row_from_dict(snap.scores["endpoints"][snap.endpoints[0].name], snap.endpoints[0])
    assert isinstance(row.score, EndpointScore)
    assert dataclasses.asdict(row.score)["name"] == snap.endpoints[0].name
