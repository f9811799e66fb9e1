import inspect
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.report_helpers import SECRET, XSS, fixture, hostile
from vvtui.redact import forget_all, remember
from vvtui.reports.html import render_html
from vvtui.reports.svg import PricePoint, log_ticks, nice_ticks, pareto_front

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


class Collector(HTMLParser):
    """Elements, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script":
            self.script_text.append(data)
        else:
            self.text.append(data)


def parse(page):
    c = Collector()
    c.feed(page)
    return c


def test_render_html_keeps_the_signature_the_tui_calls():
    assert list(inspect.signature(render_html).parameters) == ["snapshot"]


def test_html_is_self_contained():
    page = render_html(fixture())
    c = parse(page)
    for tag, attrs in c.tags:
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        if tag == "script":
            assert "src" not in attrs
        for name in ("src", "href", "xlink:href", "action", "srcset", "poster"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
            if name == "href" and name in attrs:
                assert value.startswith("#"), value
    assert "@import" not in page and "url(" not in page
    # Base URLs are shown, as text only.
    assert "http://127.0.0.1:35649/int4/v1" in "".join(c.text)


def test_html_has_sortable_scoreboard_charts_probes_and_print_css():
    snap = fixture()
    page = render_html(snap)
    c = parse(page)
    table = page.split('id="scoreboard-table"', 1)[1].split("</table>", 1)[0]
    assert table.split("<tbody>", 1)[1].count("<tr") == len(snap.endpoints)
    assert table.count('<button type="button">') >= 10  # sortable headings
    assert 'data-type="num"' in table and 'data-v="' in table
    assert page.count('<svg class="chart"') == 4
    assert "Pareto front" in page
    details = [a for t, a in c.tags if t == "details"]
    assert len(details) == len(snap.probes)
    assert "@media print" in page and "beforeprint" in page
    assert sum(1 for t, _ in c.tags if t == "script") == 1
    # Diff highlighting with a legend, as in the TUI: replaced, inserted, missing, first.
    for cls in ("d-replace", "d-first"):
        assert f'class="{cls}' in page or f' {cls}"' in page
    for word in ("replaced", "inserted", "missing", "first divergence"):
        assert word in page
    # int4 copied 541459... as 541240...: the changed digits are highlighted.
    assert re.search(r"541<span class=\"d-replace d-first\"[^>]*>240</span>289", page)


def test_model_output_renders_as_text():
    remember(SECRET)
    try:
        page = render_html(hostile())
    finally:
        forget_all()
    c = parse(page)
    # One script element, ours; no element or attribute came from the snapshot.
    assert [t for t, _ in c.tags].count("script") == 1
    assert not any(t == "img" for t, _ in c.tags)
    assert all(not k.startswith("on") for _, attrs in c.tags for k in attrs)
    text = "".join(c.text)
    assert XSS in text  # shown, as text
    assert 'evil"><img src=x onerror=alert(1)>' in text
    assert SECRET not in page


def test_svg_helpers():
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert log_ticks(10, 1000) == [10, 20, 50, 100, 200, 500, 1000]
    points = [
        PricePoint("cheap-bad", 1.0, 30.0, None),
        PricePoint("mid", 2.0, 90.0, None),
        PricePoint("dominated", 3.0, 80.0, None),
        PricePoint("top", 5.0, 99.0, None),
    ]
    assert [p.name for p in pareto_front(points)] == ["cheap-bad", "mid", "top"]


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="headless Chromium not installed (apt-get install chromium); "
    "scripts/check_html_render.py does the same check by hand",
)
def test_html_renders_in_headless_chromium(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    try:
        import check_html_render
    finally:
        sys.path.remove(str(SCRIPTS))
    snap = fixture()
    page = tmp_path / "report.html"
    page.write_text(render_html(snap), encoding="utf-8")
    check = check_html_render.render(
        page, tmp_path / "report.png", endpoints=len(snap.endpoints), size="1280,1600"
    )
    assert check.ok, check.problems
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The sort script ran without errors and the DOM holds what the file does.
    assert check.dom.count('<svg class="chart"') == 4


def test_render_check_reads_the_sorted_column():
    sys.path.insert(0, str(SCRIPTS))
    try:
        import check_html_render
    finally:
        sys.path.remove(str(SCRIPTS))
    page = render_html(fixture())
    assert check_html_render.check_dom(page, endpoints=5) == []
    marked = page.replace(
        'data-type="num" title="0–100', 'aria-sort="ascending" data-type="num" title="0–100', 1
    )
    assert marked != page
    # Snapshot order is by endpoint, fidelity 100, 99.1, 72.5, 18.2, 0: not ascending.
    problems = check_html_render.check_sorting(marked)
    assert problems and "not sorted by fidelity" in problems[0]
    head, rest = marked.split("<tbody>", 1)
    body, tail = rest.split("</tbody>", 1)
    rows = ["<tr" + r for r in body.split("<tr")[1:]]
    flipped = head + "<tbody>" + "".join(reversed(rows)) + "</tbody>" + tail
    assert check_html_render.check_sorting(flipped) == []
