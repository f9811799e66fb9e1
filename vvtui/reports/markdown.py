"""The Markdown report: run metadata, the scoreboard, verdicts with their intervals, and the
worst-diverging probes with the reference's and the candidates' answers side by side.

Everything taken from the snapshot is untrusted (model output above all): it is redacted, then
escaped so that neither Markdown nor the HTML a Markdown renderer lets through can act on it.
"""

from __future__ import annotations

import re

from vvtui.model import Probe, Snapshot
from vvtui.present.columns import any_estimated
from vvtui.redact import redact
from vvtui.reports import fmt
from vvtui.reports.data import (
    ReportData,
    checks_text,
    expected_text,
    prompt_text,
    report_data,
    strayed_from_reference,
)
from vvtui.reports.highlight import Side, call_lines, runs
from vvtui.reports.scoreboard import COLUMNS, conformance_table, metadata, verdict_sentence
from vvtui.reports.scoreboard import rows as scoreboard_rows
from vvtui.scoring.compare import is_sampled
from vvtui.untrusted import neutralise

# Probes shown side by side, and candidates per probe (the worst ones).
WORST_PROBES = 8
CANDIDATES_PER_PROBE = 3
CELL_LIMIT = 600
PROMPT_LIMIT = 1200

_SPECIAL = re.compile(r"([\\`*_\[\]|~#<>&])")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def escape(text: str) -> str:
    """Inline Markdown text that renders as itself: HTML characters become entities and
    Markdown punctuation is backslash-escaped; line breaks become <br> (table cells are one
    line)."""

    def sub(m: re.Match[str]) -> str:
        ch = m.group(1)
        return _ENTITIES.get(ch, "\\" + ch)

    text = neutralise(text.replace("\r\n", "\n"))
    return _SPECIAL.sub(sub, text).replace("\n", "<br>")


def fence(text: str) -> str:
    """A fenced code block that no backtick run in `text` can close early."""
    text = neutralise(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    bar = "`" * max(3, longest + 1)
    return f"{bar}text\n{text}\n{bar}"


def _table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right or set()
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _bold(text: str) -> str:
    """Escaped text in bold, whitespace kept outside the markers (where CommonMark needs it)."""
    core = text.strip()
    if not core:
        return escape(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return escape(lead) + "**" + escape(core) + "**" + escape(trail)


def _highlighted(data: ReportData, probe: Probe, against: str, side: Side) -> str:
    """One answer for a table cell, highlighted by the comparison of candidate `against` with
    the reference: the reference's answer for side "ref", the candidate's for "cand". Differing
    runs in bold, ‸ where the other side has text this one lacks; then tool calls (bold when the
    other side made no such call) and any error. Samples of a sampled probe differ by design
    and are not highlighted."""
    ref = data.reference
    assert ref is not None
    mine, theirs = (against, ref.name) if side == "cand" else (ref.name, against)
    result = data.result(mine, probe.id)
    if result is None:
        return "*(no answer)*"
    text = result.text
    comparison = None if is_sampled(probe) else data.comparison(against, probe.id)
    cell = ""
    if redact(text) != text or comparison is None or comparison.mark == "error":
        cell = escape(fmt.clip(redact(text), CELL_LIMIT))
    else:
        used = 0
        for run in runs(text, comparison, side):
            if used >= CELL_LIMIT:
                cell += "…"
                break
            piece = run.text[: CELL_LIMIT - used]
            used += len(piece)
            if run.tag == "gap":
                cell += "‸"
            elif run.tag == "equal":
                cell += escape(piece)
            else:
                cell += _bold(piece)
    lines = [cell] if cell else []
    other = None if is_sampled(probe) else data.result(theirs, probe.id)
    for line, differs in call_lines(result, other):
        line = fmt.clip(redact(line), CELL_LIMIT)
        lines.append(_bold(line) if differs else escape(line))
    if result.error is not None:
        lines.append(escape(fmt.clip(fmt.error_text(result.error), CELL_LIMIT)))
    return "<br>".join(lines) or "*(empty)*"


def _side_by_side(data: ReportData, probe: Probe) -> list[str]:
    ref = data.reference
    assert ref is not None
    row = data.scores.probes.get(probe.id, {})
    shown = [e for e in data.candidates if strayed_from_reference(row.get(e.name, {}))]
    shown.sort(key=lambda e: -(row.get(e.name, {}).get("damage") or 0.0))
    shown = shown[:CANDIDATES_PER_PROBE]
    out: list[str] = []
    if not shown:
        return out
    # The reference's answer is highlighted against the worst candidate beside it.
    headers = ["", f"{escape(ref.name)} (reference)"]
    answers = ["answer", _highlighted(data, probe, shown[0].name, "ref")]
    marks = ["mark", row.get(ref.name, {}).get("mark", "–")]
    checks = ["checks", _checks_cell(data, ref.name, probe)]
    firsts = ["first divergence", ""]
    damages = ["damage", ""]
    for e in shown:
        s = row.get(e.name, {})
        headers.append(escape(e.name))
        answers.append(_highlighted(data, probe, e.name, "cand"))
        marks.append(s.get("mark", "–"))
        checks.append(_checks_cell(data, e.name, probe))
        fd = s.get("first_divergence")
        if is_sampled(probe):
            mmd = s.get("mmd_p")
            firsts.append("–" if mmd is None else f"MMD p = {mmd:.3f}")
        else:
            first = "none" if fd is None else f"token {fd}"
            if s.get("cut_at") is not None:
                first += f" · ✂ cut at token {s['cut_at']}"
            firsts.append(first)
        damages.append(fmt.num(s.get("damage"), ".2f"))
    first_label = "two-sample test" if is_sampled(probe) else "first divergence"
    firsts[0] = first_label
    out.append(_table(headers, [answers, marks, checks, firsts, damages]))
    others = [
        f"{escape(e.name)} ({row[e.name].get('mark')})"
        for e in data.candidates
        if e not in shown and row.get(e.name, {}).get("mark") in ("fail", "diverged", "error")
    ]
    if others:
        out.append("Not shown: " + ", ".join(others) + ".")
    return out


def _checks_cell(data: ReportData, endpoint: str, probe: Probe) -> str:
    if not probe.checks:
        return "–"
    s = data.probe_summary(probe.id, endpoint)
    passed, total = s.get("checks_passed"), s.get("checks_total")
    text = fmt.MISSING if total is None else f"{passed}/{total}"
    comparison = data.comparison(endpoint, probe.id)
    if comparison is not None:
        failed = [
            f"{c.type}: {c.detail}" if c.detail else c.type
            for c in comparison.checks
            if not c.passed
        ]
        if failed:
            text += " — " + escape(fmt.clip(redact("; ".join(failed)), 200))
    return text


def _probe_section(data: ReportData, rank: int, probe: Probe) -> list[str]:
    title = f"### {rank}. {escape(probe.id)} ({escape(probe.kind)}, {escape(probe.suite or '–')})"
    out = [title, ""]
    if probe.description:
        out += [escape(redact(probe.description)), ""]
    prompt = prompt_text(probe)
    if prompt:
        out += ["Prompt:", "", fence(fmt.clip(redact(prompt), PROMPT_LIMIT)), ""]
    expected = expected_text(probe)
    if expected:
        out += [f"Expected: {escape(fmt.clip(redact(expected), CELL_LIMIT))}", ""]
    if probe.checks:
        out += [f"Checks: {escape(fmt.clip(redact(checks_text(probe)), CELL_LIMIT))}", ""]
    if probe.kind == "sampled" or probe.n_samples > 1:
        out += [
            f"Sampled probe ({probe.n_samples} samples): answers are compared as distributions; "
            "sample 0 is shown.",
            "",
        ]
    table = _side_by_side(data, probe)
    if table:
        out += ["\n\n".join(table), ""]
    return out


def _marks_matrix(data: ReportData) -> str:
    names = [e.name for e in data.snapshot.endpoints]
    headers = ["probe", "kind", *(escape(n) for n in names)]
    rows = []
    for probe in data.snapshot.probes:
        row = data.scores.probes.get(probe.id, {})
        rows.append(
            [escape(probe.id), probe.kind, *(row.get(n, {}).get("mark", "pending") for n in names)]
        )
    return _table(headers, rows)


def render_markdown(snapshot: Snapshot) -> str:
    """The Markdown report of a snapshot (scores as stored, recomputed only when missing or
    stale; the report says which)."""
    data = report_data(snapshot)
    return render_markdown_data(data)


def render_markdown_data(data: ReportData, worst: int = WORST_PROBES) -> str:
    snap = data.snapshot
    suites = ", ".join(snap.run.suites) or "no suites"
    out = [f"# vvtui report: {escape(redact(suites))}", ""]
    out += [f"- **{label}**: {escape(value)}" for label, value in metadata(data)]
    out.append("")

    out += ["## Scoreboard", ""]
    right = {i for i, c in enumerate(COLUMNS) if c.numeric}
    board = scoreboard_rows(data)
    rows = [[escape(redact(c.text(row))) for c in COLUMNS] for row in board]
    out += [_table([c.label for c in COLUMNS], rows, right), ""]
    notes = [
        "Fidelity is 0–100 against the reference, calibrated by its own noise floor; the "
        "interval is a 95% bootstrap over probes (docs/scoring.md)."
    ]
    if any_estimated(board):
        notes.append("\\* cost from estimated token counts (the provider sent no usage).")
    out += [" ".join(notes), ""]

    out += ["## Verdicts", ""]
    out += [f"- **{escape(e.name)}**: {escape(verdict_sentence(data, e))}" for e in snap.endpoints]
    out.append("")

    headers, rows, notes = conformance_table(data)
    if rows:
        out += ["## Conformance", ""]
        out += [_table(headers, [[escape(c) for c in r] for r in rows], {1, 2}), ""]
        out += [f"- {escape(n)}" for n in notes] + ([""] if notes else [])
        out += [
            "Checks sent before the probes (docs/scoring.md#conformance): FAIL marks a check "
            "this endpoint fails that the reference passes, which keeps it from `faithful`.",
            "",
        ]

    out += ["## Endpoints", ""]
    rows = [
        [
            escape(e.name),
            escape(e.model),
            escape(e.base_url),
            escape(e.protocol),
            escape(fmt.price(e) + ("" if e.price is None else f" ({e.price.source})")),
            escape(fmt.endpoint_label(e)),
        ]
        for e in snap.endpoints
    ]
    headers = ["endpoint", "model", "base URL", "protocol", "price in/out per Mtok", "labels"]
    out += [_table(headers, [[redact(c) for c in r] for r in rows]), ""]

    out += ["## Worst-diverging probes", ""]
    diverged = data.worst_probes()
    ids = diverged[: max(0, worst)]
    if not diverged:
        out += ["No candidate diverged from the reference on any probe.", ""]
    elif not ids:
        out += [f"{len(diverged)} probes diverged; none shown side by side (--worst 0).", ""]
    else:
        out += [
            f"The {len(ids)} probes where a candidate strayed furthest from the reference "
            f"(of {len(diverged)} where one strayed; errors are counted in the scoreboard, not "
            "here). **Bold**: text that differs from the reference; ‸: text the other side has "
            "and this one lacks.",
            "",
        ]
        for rank, pid in enumerate(ids, 1):
            out += _probe_section(data, rank, snap.probe(pid))

    out += ["## Probe marks", ""]
    out += [
        "pass: checks pass and the answer matches the reference; diverged: checks pass but the "
        "answer differs; fail: a check failed; error: the request failed; pending: nothing to "
        "compare.",
        "",
        _marks_matrix(data),
        "",
    ]
    return "\n".join(out)
