"""The HTML report: one self-contained file (inline CSS, inline SVG, a few lines of inline JS to
sort the scoreboard and open every probe before printing; no fetch of any kind), readable on
screen and on paper.

Everything from the snapshot is untrusted, model output above all: it is redacted and then
HTML-escaped, so an answer holding `<script>` shows as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from vvtui.model import EndpointInfo, Probe, Result, Snapshot
from vvtui.present.columns import any_estimated
from vvtui.redact import redact
from vvtui.reports import fmt, palette, svg
from vvtui.reports.data import (
    ReportData,
    checks_text,
    expected_text,
    prompt_text,
    report_data,
)
from vvtui.reports.highlight import Side, call_lines, runs
from vvtui.reports.scoreboard import COLUMNS, conformance_table, metadata, verdict_sentence
from vvtui.reports.scoreboard import rows as scoreboard_rows
from vvtui.scoring.compare import is_sampled
from vvtui.untrusted import neutralise, shown

if TYPE_CHECKING:
    from vvtui.scoring.compare import ProbeComparison

# Probe sections open on load (the worst ones); the rest are one click away.
OPEN_PROBES = 10
TEXT_LIMIT = 20_000


def esc(value: object) -> str:
    return html.escape(shown(str(value)), quote=True)


def _anchor(index: int, probe_id: str) -> str:
    return f"p{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", probe_id)[:60]


def _badge(kind: str, text: str, table: dict[str, tuple[str, str]]) -> str:
    ink, bg = table.get(kind, palette.UNKNOWN)
    return f'<span class="badge" style="color:{ink};background:{bg}">{esc(text)}</span>'


def verdict_badge(verdict: str | None) -> str:
    return _badge(verdict or "", verdict or "–", palette.VERDICT)


def mark_badge(mark: str | None) -> str:
    return _badge(mark or "pending", mark or "pending", palette.MARK)


# The palette as CSS variables; the style sheet below uses only these names.
CSS_VARS = (
    ":root { color-scheme: light; "
    + " ".join(
        f"--{name}: {value};"
        for name, value in (
            ("ink", palette.INK),
            ("muted", palette.MUTED),
            ("grid", palette.GRID),
            *((tag, palette.DIFF[tag][0]) for tag in ("replace", "insert", "delete", "first")),
        )
    )
    + " }"
)

CSS = """
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1360px; padding: 24px 28px 48px; background: #ffffff;
  color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--grid); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub, .note { color: var(--muted); }
.note { font-size: 12.5px; }
nav.toc { margin: 10px 0 0; font-size: 13px; }
nav.toc a { margin-right: 14px; color: #0969da; text-decoration: none; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px;
  margin: 14px 0 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eaeef2; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
#scoreboard-table th, #scoreboard-table td { white-space: nowrap; padding: 4px 5px;
  font-size: 12.5px; }
td.num, th.num { text-align: right; }
.scroll { overflow-x: auto; }
table.sortable th button { all: unset; cursor: pointer; }
table.sortable th button::after { content: " \\2195"; color: #afb8c1; font-size: 11px; }
table.sortable th[aria-sort="ascending"] button::after { content: " \\2191"; color: var(--ink); }
table.sortable th[aria-sort="descending"] button::after { content: " \\2193"; color: var(--ink); }
tr.ref td { background: #f6fbff; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
  gap: 8px 28px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin: 10px 0 4px; }
svg.chart { max-width: 100%; height: auto; }
ul.verdicts { padding-left: 18px; }
ul.verdicts li { margin: 3px 0; }
table.matrix td, table.matrix th { padding: 2px 6px; font-size: 12.5px; }
table.matrix td.m, table.matrix th.m { text-align: center; }
table.matrix a { color: inherit; }
details.probe { border: 1px solid var(--grid); border-radius: 6px; margin: 8px 0;
  padding: 0 12px; }
details.probe[open] { padding-bottom: 10px; }
details.probe > summary { cursor: pointer; padding: 8px 0; font-weight: 600; }
details.probe > summary .badge { margin-left: 4px; font-weight: 500; }
.kv { margin: 6px 0; }
.kv b { color: var(--muted); font-weight: 600; margin-right: 6px; }
pre, .answer { font: 12.5px/1.5 ui-monospace, "SFMono-Regular", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
pre.prompt { background: #f6f8fa; border-radius: 4px; padding: 8px 10px; }
table.answers { table-layout: fixed; margin-top: 8px; }
table.answers td { border-bottom: 1px solid #eaeef2; }
table.answers col.who { width: 190px; }
.who .name { font-weight: 600; }
.who .facts { color: var(--muted); font-size: 12px; }
.same { color: var(--muted); font-style: italic; }
.calls { margin-top: 4px; }
.err { color: #cf222e; }
.d-replace { background: var(--replace); }
.d-insert { background: var(--insert); }
.d-delete { background: var(--delete); text-decoration: line-through; }
.d-changed { background: var(--replace); }
.d-first { outline: 2px solid var(--first); outline-offset: 0; border-radius: 2px; }
.d-gap { display: inline-block; width: 0; height: 1.1em; vertical-align: text-bottom;
  border-left: 2px solid #cf222e; margin: 0 1px; }
.d-gap.d-first { border-left-color: var(--first); outline: none; border-left-width: 3px; }
.legend span.swatch { padding: 0 6px; margin-right: 4px; border-radius: 2px; }
.legend { font-size: 12.5px; margin: 6px 0 10px; display: flex; flex-wrap: wrap; gap: 4px 18px; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--grid);
  padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav.toc, .noprint { display: none; }
  h2 { break-after: avoid; }
  figure, tr, details.probe { break-inside: avoid; }
  .charts { display: block; }
  details.probe { border: none; padding: 0; }
  .scroll { overflow: visible; }
  #scoreboard-table th, #scoreboard-table td { white-space: normal; font-size: 9px;
    padding: 2px 3px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# Sorts the scoreboard on a heading click (numbers by data-v; not measured stays last) and opens
# every probe before printing.
SCRIPT = """
(function () {
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var numeric = th.dataset.type === "num";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
          if (x === "" && y === "") return 0;
          if (x === "") return 1;
          if (y === "") return -1;
          var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
"""


# --------------------------------------------------------------------------------------------
# Sections


def _meta_section(data: ReportData) -> list[str]:
    out = ['<dl class="meta">']
    for label, value in metadata(data):
        out.append(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>")
    out.append("</dl>")
    return out


def _sort_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _scoreboard(data: ReportData) -> list[str]:
    out = [
        '<section id="scoreboard"><h2>Scoreboard</h2>',
        '<div class="scroll"><table class="sortable" id="scoreboard-table"><thead><tr>',
    ]
    for c in COLUMNS:
        cls = ' class="num"' if c.numeric else ""
        title = f' title="{esc(c.title)}"' if c.title else ""
        kind = "num" if c.numeric else "text"
        out.append(
            f'<th{cls} data-type="{kind}"{title}><button type="button">{esc(c.label)}</button></th>'
        )
    out.append("</tr></thead><tbody>")
    board = scoreboard_rows(data)
    for line in board:
        row = ['<tr class="ref">' if line.reference else "<tr>"]
        for c in COLUMNS:
            value = c.value(line)
            cell = verdict_badge(value) if c.key == "verdict" else esc(c.text(line))
            cls = ' class="num"' if c.numeric else ""
            row.append(f'<td{cls} data-v="{esc(_sort_value(value))}">{cell}</td>')
        row.append("</tr>")
        out.append("".join(row))
    out.append("</tbody></table></div>")
    notes = [
        "Fidelity is 0–100 against the reference, calibrated by its own noise floor; the "
        "interval is a 95% bootstrap over probes. Click a heading to sort; hover a heading for "
        "what it measures."
    ]
    if any_estimated(board):
        notes.append("* cost from estimated token counts (the provider sent no usage).")
    out.append(f'<p class="note">{esc(" ".join(notes))}</p></section>')
    return out


def _latencies(data: ReportData, endpoint: str, attr: str) -> list[float]:
    values = []
    for r in data.snapshot.results:
        if r.endpoint == endpoint and r.error is None:
            v = getattr(r, attr)
            if v is not None:
                values.append(float(v))
    return values


def _ms_tick(seconds: float) -> str:
    return "0" if seconds == 0 else fmt.ms(seconds)


def _tps_tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _charts(data: ReportData) -> list[str]:
    eps = data.snapshot.endpoints
    scores = {e.name: data.endpoint_score(e.name) for e in eps}
    rows = [
        svg.FidelityRow(e.name, None, None, None, None)
        if (s := scores[e.name]) is None
        else svg.FidelityRow(e.name, s.fidelity, s.ci_low, s.ci_high, s.verdict)
        for e in eps
    ]
    points = [
        svg.PricePoint(e.name, s.cost_usd, s.fidelity, s.verdict)
        for e in eps
        if (s := scores[e.name]) is not None and s.cost_usd is not None and s.fidelity is not None
    ]
    unpriced = [e.name for e in eps if e.name not in {p.name for p in points}]
    ttft = [(e.name, _latencies(data, e.name, "ttft_s")) for e in eps]
    speed = [(e.name, _latencies(data, e.name, "tokens_per_s")) for e in eps]
    out = ['<section id="charts"><h2>Charts</h2><div class="charts">']
    out.append("<figure><figcaption>Fidelity and its 95% interval</figcaption>")
    out.append(svg.fidelity_chart(rows, data.threshold))
    out.append("</figure>")
    out.append("<figure><figcaption>Run cost against fidelity</figcaption>")
    out.append(svg.price_chart(points))
    note = (
        "Ringed and joined: the Pareto front (no other endpoint is both cheaper and more faithful)."
    )
    if unpriced:
        note += " Left out (no cost or no fidelity): " + ", ".join(unpriced) + "."
    out.append(f'<p class="note">{esc(note)}</p></figure>')
    out.append("<figure><figcaption>Time to first token</figcaption>")
    out.append(svg.distribution_chart(ttft, "time to first token", _ms_tick, "TTFT per endpoint"))
    out.append("</figure>")
    out.append("<figure><figcaption>Output tokens per second</figcaption>")
    out.append(
        svg.distribution_chart(speed, "tokens per second", _tps_tick, "Throughput per endpoint")
    )
    out.append(
        '<p class="note">Box: 25th–75th percentile; whiskers: 10th–90th; bar and number: '
        "median; dots: single requests (successful ones).</p></figure>"
    )
    out.append("</div></section>")
    return out


def _verdicts(data: ReportData) -> list[str]:
    out = ['<section id="verdicts"><h2>Verdicts</h2><ul class="verdicts">']
    for e in data.snapshot.endpoints:
        score = data.endpoint_score(e.name)
        verdict = None if score is None else score.verdict
        sentence = esc(verdict_sentence(data, e))
        out.append(f"<li>{verdict_badge(verdict)} <b>{esc(e.name)}</b>: {sentence}</li>")
    out.append("</ul></section>")
    return out


def _conformance(data: ReportData) -> list[str]:
    headers, rows, notes = conformance_table(data)
    if not rows:
        return []
    out = ['<section id="conformance"><h2>Conformance</h2><div class="scroll"><table><thead><tr>']
    out.append("".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table></div>")
    if notes:
        out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    out.append("</section>")
    return out


def _endpoints(data: ReportData) -> list[str]:
    out = [
        '<section id="endpoints"><h2>Endpoints</h2><div class="scroll"><table><thead><tr>'
        "<th>endpoint</th><th>model</th><th>base URL</th><th>protocol</th>"
        '<th class="num">price in / out per Mtok</th><th>labels</th></tr></thead><tbody>'
    ]
    for e in data.snapshot.endpoints:
        price = fmt.price(e) + ("" if e.price is None else f" ({e.price.source})")
        labels = fmt.endpoint_label(e)
        out.append(
            f"<tr><td>{esc(e.name)}{' (reference)' if e.reference else ''}</td>"
            f"<td>{esc(e.model)}</td><td><code>{esc(e.base_url)}</code></td>"
            f'<td>{esc(e.protocol)}</td><td class="num">{esc(price)}</td>'
            f"<td>{esc(labels)}</td></tr>"
        )
    out.append("</tbody></table></div></section>")
    return out


def _matrix(data: ReportData, anchors: dict[str, str]) -> list[str]:
    eps = data.snapshot.endpoints
    out = [
        '<section id="marks"><h2>Probe marks</h2>',
        '<p class="note">pass: checks pass and the answer matches the reference; diverged: checks '
        "pass but the answer differs; fail: a check failed; error: the request failed; pending: "
        "nothing to compare. A probe name links to its answers.</p>",
        '<div class="scroll"><table class="matrix"><thead><tr><th>probe</th><th>kind</th>',
    ]
    out += [f'<th class="m">{esc(e.name)}</th>' for e in eps]
    out.append("</tr></thead><tbody>")
    for probe in data.snapshot.probes:
        row = data.scores.probes.get(probe.id, {})
        cells = "".join(
            f'<td class="m">{mark_badge(row.get(e.name, {}).get("mark"))}</td>' for e in eps
        )
        out.append(
            f'<tr><td><a href="#{anchors[probe.id]}">{esc(probe.id)}</a></td>'
            f"<td>{esc(probe.kind)}</td>{cells}</tr>"
        )
    out.append("</tbody></table></div></section>")
    return out


def highlighted(text: str, comparison: ProbeComparison | None, side: Side) -> str:
    """An answer as HTML with its diff runs wrapped in classed spans."""
    if redact(text) != text or comparison is None:
        return esc(fmt.clip(text, TEXT_LIMIT))
    parts = []
    used = 0
    for run in runs(text, comparison, side):
        if used >= TEXT_LIMIT:
            parts.append("…")
            break
        piece = run.text[: TEXT_LIMIT - used]
        used += len(piece)
        first = " d-first" if run.first else ""
        if run.tag == "gap":
            what = (
                "reference text missing here" if side == "cand" else "the candidate adds text here"
            )
            parts.append(f'<span class="d-gap{first}" title="{what}"></span>')
        elif run.tag == "equal":
            parts.append(html.escape(neutralise(piece), quote=True))
        else:
            title = ' title="first divergence"' if run.first else ""
            parts.append(
                f'<span class="d-{run.tag}{first}"{title}>'
                f"{html.escape(neutralise(piece), quote=True)}</span>"
            )
    return "".join(parts)


def _calls_html(result: Result | None, other: Result | None) -> str:
    lines = call_lines(result, other)
    if not lines:
        return ""
    rendered = [
        f'<span class="d-changed">{esc(line)}</span>' if differs else esc(line)
        for line, differs in lines
    ]
    return '<div class="calls answer">' + "<br>".join(rendered) + "</div>"


def _answer_cell(result: Result | None, body: str, other: Result | None) -> str:
    if result is None:
        return '<span class="same">no answer</span>'
    out = [f'<div class="answer">{body}</div>' if body else ""]
    out.append(_calls_html(result, other))
    if result.error is not None:
        out.append(f'<div class="err">{esc(fmt.error_text(result.error))}</div>')
    if result.truncated:
        out.append('<div class="note">(partial answer)</div>')
    if not body and not result.tool_calls and result.error is None:
        out.append('<span class="same">(empty answer)</span>')
    return "".join(out)


def _facts(data: ReportData, probe: Probe, endpoint: EndpointInfo) -> str:
    s = data.probe_summary(probe.id, endpoint.name)
    facts = []
    if s.get("damage") is not None:
        facts.append(f"damage {s['damage']:.2f}")
    if s.get("checks_total"):
        facts.append(f"checks {s.get('checks_passed')}/{s.get('checks_total')}")
    if is_sampled(probe):
        if s.get("mmd_p") is not None:
            facts.append(f"MMD p {s['mmd_p']:.3f}")
    else:
        if s.get("agreement") is not None:
            facts.append(f"tokens agree {100 * s['agreement']:.0f}%")
        if s.get("first_divergence") is not None:
            facts.append(f"first divergence at token {s['first_divergence']}")
        if s.get("cut_at") is not None:
            facts.append(f"✂ cut at token {s['cut_at']}")
    if s.get("kl") is not None:
        facts.append(f"KL {fmt.kl(s['kl'])}")
    if s.get("tool_match") not in (None, "same"):
        facts.append(f"tool calls: {str(s['tool_match']).replace('_', ' ')}")
    return esc(" · ".join(facts))


def _failed_checks(data: ReportData, endpoint: str, probe: Probe) -> str:
    comparison = data.comparison(endpoint, probe.id)
    if comparison is None:
        return ""
    failed = [
        f"{c.type}: {c.detail}" if c.detail else c.type for c in comparison.checks if not c.passed
    ]
    if not failed:
        return ""
    return '<div class="err">failed: ' + esc(fmt.clip("; ".join(failed), 600)) + "</div>"


def _probe_section(
    data: ReportData, probe: Probe, anchor: str, is_open: bool, rank: int | None
) -> list[str]:
    ref = data.reference
    assert ref is not None
    row = data.scores.probes.get(probe.id, {})
    badges = " ".join(
        mark_badge(row.get(e.name, {}).get("mark"))
        for e in data.snapshot.endpoints
        if row.get(e.name, {}).get("mark") not in (None, "pass")
    )
    ranked = f" · #{rank} worst" if rank is not None else ""
    out = [
        f'<details class="probe" id="{anchor}"{" open" if is_open else ""}>',
        f'<summary>{esc(probe.id)} <span class="note">{esc(probe.kind)} · '
        f"{esc(probe.suite or '–')}{esc(ranked)}</span> {badges}</summary>",
    ]
    if probe.description:
        out.append(f'<p class="note">{esc(probe.description)}</p>')
    out.append(f'<pre class="prompt">{esc(fmt.clip(prompt_text(probe), TEXT_LIMIT))}</pre>')
    expected = expected_text(probe)
    if expected:
        out.append(f'<div class="kv"><b>expected</b><code>{esc(expected)}</code></div>')
    if probe.checks:
        out.append(f'<div class="kv"><b>checks</b><code>{esc(checks_text(probe))}</code></div>')
    sampled = is_sampled(probe)
    if sampled:
        out.append(
            f'<p class="note">Sampled probe ({probe.n_samples} samples at temperature '
            f"{probe.temperature:g}): answers are draws from a distribution, compared by a "
            "two-sample test, so sample 0 is shown without highlighting.</p>"
        )
    out.append(
        '<table class="answers"><colgroup><col class="who"><col><col></colgroup><thead><tr>'
        "<th>endpoint</th><th>answer (highlighted against the reference)</th>"
        "<th>the reference's answer, highlighted against this endpoint</th></tr></thead>"
        "<tbody>"
    )
    ref_result = data.result(ref.name, probe.id)
    ref_s = row.get(ref.name, {})
    out.append(
        f'<tr class="ref"><td class="who"><div class="name">{esc(ref.name)}</div>'
        f"{mark_badge(ref_s.get('mark'))}"
        f'<div class="facts">{_facts(data, probe, ref)}</div></td>'
        f"<td>{_answer_cell(ref_result, esc(ref_result.text) if ref_result else '', None)}"
        f"{_failed_checks(data, ref.name, probe)}</td>"
        '<td><span class="same">the reference</span></td></tr>'
    )
    for e in data.candidates:
        result = data.result(e.name, probe.id)
        s = row.get(e.name, {})
        comparison = None if sampled else data.comparison(e.name, probe.id)
        usable = comparison is not None and comparison.mark != "error" and result is not None
        if result is None:
            cand_html = ""
        elif usable:
            cand_html = highlighted(result.text, comparison, "cand")
        else:
            cand_html = esc(result.text)
        differs = (
            sampled
            or result is None
            or ref_result is None
            or result.error is not None
            or s.get("agreement") != 1.0
            or s.get("tool_match") not in (None, "same")
        )
        if not differs:
            ref_cell = '<span class="same">same as the reference</span>'
        elif usable and ref_result is not None:
            ref_cell = _answer_cell(
                ref_result, highlighted(ref_result.text, comparison, "ref"), result
            )
        else:
            ref_cell = '<span class="same">–</span>'
        out.append(
            f'<tr><td class="who"><div class="name">{esc(e.name)}</div>'
            f'{mark_badge(s.get("mark"))}<div class="facts">{_facts(data, probe, e)}</div></td>'
            f"<td>{_answer_cell(result, cand_html, None if sampled else ref_result)}"
            f"{_failed_checks(data, e.name, probe)}</td><td>{ref_cell}</td></tr>"
        )
    out.append("</tbody></table></details>")
    return out


def _legend() -> str:
    items = []
    for tag in ("replace", "insert", "delete"):
        colour, meaning = palette.DIFF[tag]
        name, _, rest = meaning.partition(": ")
        deco = "text-decoration:line-through;" if tag == "delete" else ""
        items.append(
            f'<span><span class="swatch" style="background:{colour};{deco}">{esc(name)}</span>'
            f"{esc(rest)}</span>"
        )
    colour, meaning = palette.DIFF["first"]
    name, _, rest = meaning.partition(": ")
    items.append(
        f'<span><span class="swatch d-first">{esc(name)}</span>{esc(rest)}</span>'
        '<span><span class="d-gap"></span> text the other side has here</span>'
    )
    return '<div class="legend">' + "".join(items) + "</div>"


def _probes(data: ReportData, anchors: dict[str, str]) -> list[str]:
    if data.reference is None:
        return ['<section id="probes"><h2>Probes</h2><p class="note">No endpoints.</p></section>']
    worst = data.worst_probes()
    rank = {pid: i + 1 for i, pid in enumerate(worst)}
    opened = set(worst[:OPEN_PROBES])
    out = [
        '<section id="probes"><h2>Probes</h2>',
        f'<p class="note">Every probe, worst-diverging first ({len(worst)} where a candidate '
        f"strayed; the worst {min(OPEN_PROBES, len(worst))} are open). Each row shows a "
        "candidate's answer highlighted against the reference, and the reference's answer "
        "highlighted against that candidate.</p>",
        _legend(),
    ]
    by_id = {p.id: p for p in data.snapshot.probes}
    order = worst + [p.id for p in data.snapshot.probes if p.id not in rank]
    for pid in order:
        out += _probe_section(data, by_id[pid], anchors[pid], pid in opened, rank.get(pid))
    out.append("</section>")
    return out


def _footer(data: ReportData) -> list[str]:
    meta = data.scores.meta
    boot = meta.get("bootstrap") or {}
    constants = meta.get("constants") or {}
    const = ", ".join(f"{k} {v}" for k, v in sorted(constants.items()))
    return [
        "<footer>",
        f"Scores {esc(data.score_note)}. Bootstrap B={esc(boot.get('b'))}, seed "
        f"{esc(boot.get('seed'))}; MMD permutations {esc(meta.get('mmd_permutations'))}; "
        f"constants: {esc(const)}. Formulas: docs/scoring.md in the vvtui sources. This file "
        "loads nothing from the network.",
        "</footer>",
    ]


def render_html(snapshot: Snapshot) -> str:
    """The self-contained HTML report of a snapshot."""
    return render_html_data(report_data(snapshot))


def render_html_data(data: ReportData) -> str:
    snap = data.snapshot
    suites = ", ".join(snap.run.suites) or "no suites"
    anchors = {p.id: _anchor(i, p.id) for i, p in enumerate(snap.probes)}
    title = f"vvtui report: {suites} ({snap.created_at})"
    body: list[str] = [
        "<header>",
        "<h1>vvtui report</h1>",
        f'<div class="sub">{esc(suites)} · seed {snap.run.seed} · {len(snap.endpoints)} '
        f"endpoints · {len(snap.probes)} probes · {esc(snap.created_at)}</div>",
        '<nav class="toc"><a href="#scoreboard">scoreboard</a><a href="#charts">charts</a>'
        '<a href="#verdicts">verdicts</a><a href="#endpoints">endpoints</a>'
        '<a href="#marks">probe marks</a><a href="#probes">probes</a></nav>',
        "</header>",
    ]
    if not snap.run.complete:
        body.append(
            '<p class="err"><b>Incomplete run:</b> the results are what was gathered before it '
            "stopped.</p>"
        )
    sections: Iterable[list[str]] = (
        _meta_section(data),
        _scoreboard(data),
        _charts(data),
        _verdicts(data),
        _conformance(data),
        _endpoints(data),
        _matrix(data, anchors),
        _probes(data, anchors),
        _footer(data),
    )
    for section in sections:
        body += section
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="vvtui">',
            f"<title>{esc(title)}</title>",
            f"<style>{CSS_VARS}\n{CSS}</style>",
            "</head>",
            "<body>",
            *body,
            f"<script>{SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )
