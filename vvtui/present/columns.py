"""The scoreboard's columns, defined once: every front end (the TUI table, the Markdown, HTML and
CSV reports, the terminal table of headless runs and `vvtui score`) picks the keys it shows from
`COLUMNS`, and a key always reads the same wherever it is shown.

A column is read from a `ScoreRow`: the typed `EndpointScore`, plus what the reports know beside
it (the endpoint's config, what its verdict cost).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vvtui.present import fmt
from vvtui.present.styles import VERDICT_GLYPHS

if TYPE_CHECKING:
    from vvtui.model import EndpointInfo
    from vvtui.scoring.decide import VerdictCost
    from vvtui.scoring.report import EndpointScore

# Marks a run cost computed from vvtui's own token counts; every table showing it says so.
ESTIMATED = "*"
ESTIMATED_NOTE = "* cost from estimated token counts (the provider sent no usage)"
REFERENCE_STAR = " ★"


# Not frozen: the TUI builds one per endpoint per score update, and a frozen dataclass's
# __init__ costs several times a plain one's.
@dataclass(slots=True)
class ScoreRow:
    """One endpoint's line of a scoreboard."""

    score: EndpointScore
    # The endpoint as configured (reports); None in the TUI, which has the score alone.
    endpoint: EndpointInfo | None = None
    # What its verdict cost (vvtui.scoring.decide.costs_to_verdict); reports only.
    cost_to_verdict: VerdictCost | None = None
    # False for an endpoint a report has no score for: its verdict reads – rather than the
    # default "inconclusive" of an empty EndpointScore.
    scored: bool = True

    @property
    def name(self) -> str:
        return self.score.name if self.endpoint is None else self.endpoint.name

    @property
    def reference(self) -> bool:
        return self.score.reference if self.endpoint is None else self.endpoint.reference


def unscored(name: str) -> EndpointScore:
    """The score of an endpoint a report has none for: every number reads – (and the row is
    marked unscored, so its verdict does too)."""
    from vvtui.scoring.report import EndpointScore

    return EndpointScore(name=name)


def row_from_dict(
    score: Mapping[str, Any] | None,
    endpoint: EndpointInfo,
    cost_to_verdict: VerdictCost | None = None,
) -> ScoreRow:
    """A row from a stored score report's entry (`snapshot.scores["endpoints"][name]`)."""
    from vvtui.scoring.report import EndpointScore

    typed = EndpointScore.from_dict(dict(score)) if score else unscored(endpoint.name)
    return ScoreRow(typed, endpoint, cost_to_verdict, scored=bool(score))


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    # The header, and a shorter one where room is short (the TUI); both say the same thing.
    label: str
    # The raw value (for sorting, CSV and the HTML table's sort attribute) and its display text.
    value: Callable[[ScoreRow], Any]
    text: Callable[[ScoreRow], str]
    # Numeric columns are right-aligned.
    numeric: bool = True
    # What the column measures: the HTML header's tooltip.
    title: str = ""
    short: str = ""
    # Best first when sorted: larger values first (fidelity), else smaller (latency, cost).
    descending: bool = False
    # The widest text the column can show, for a table that never resizes (the TUI); None: as
    # wide as the endpoint names.
    width: int | None = None

    @property
    def header(self) -> str:
        return self.short or self.label

    def sort_key(self, row: ScoreRow) -> tuple[bool, Any]:
        """Best first, not measured last."""
        value = self.value(row)
        if value is None:
            return True, 0
        return False, -value if self.descending else value


def _field(name: str) -> Callable[[ScoreRow], Any]:
    return lambda r: getattr(r.score, name)


def _measured(
    key: str, label: str, name: str, text: Callable[[Any], str], **options: Any
) -> Column:
    """A column that shows one field of the score, formatted: the field named once."""
    return Column(key, label, _field(name), lambda r: text(getattr(r.score, name)), **options)


def endpoint_text(row: ScoreRow) -> str:
    return row.name + (" (ref)" if row.reference else "")


def name_text(row: ScoreRow) -> str:
    """The name, starred for the reference: what the TUI shows (and sorts by, unstarred)."""
    return row.name + (REFERENCE_STAR if row.reference else "")


def verdict_glyph_text(row: ScoreRow) -> str:
    verdict = row.score.verdict
    return f"{VERDICT_GLYPHS.get(verdict, '')} {verdict}".strip()


def run_cost_text(row: ScoreRow) -> str:
    return fmt.usd(row.score.cost_usd) + (ESTIMATED if row.score.estimated_usage else "")


def verdict_cost_text(row: ScoreRow) -> str:
    cost = row.cost_to_verdict
    return fmt.MISSING if cost is None else fmt.verdict_cost(cost.requests, cost.usd)


def gap_text(row: ScoreRow) -> str:
    """`no json_schema · ✂ 2 cut`: what an endpoint could not be measured on, and its cut
    answers; – when neither."""
    # Deferred like every scoring import here: reports load without numpy until they score.
    from vvtui.scoring.verdict_gates import describe_gaps

    parts = []
    if row.score.gaps:
        parts.append(describe_gaps(row.score.gaps))
    if row.score.cut_probes:
        parts.append(f"✂ {row.score.cut_probes} cut")
    return " · ".join(parts) or fmt.MISSING


def conformance_summary(row: ScoreRow) -> str:
    """`9/9 pass` or `fail: stop, usage`; – when not checked."""
    from vvtui.scoring.conformance import summary_line

    entry = row.score.conformance
    return summary_line(entry) if entry else fmt.MISSING


def _failed(row: ScoreRow) -> list[str]:
    return list((row.score.conformance or {}).get("failed") or [])


def _checks_cell(row: ScoreRow) -> str:
    """`9/9 ✓`, `✗ not_cut` (checks failed that the reference passes) or `–`."""
    from vvtui.scoring.conformance import SHORT

    entry = row.score.conformance or {}
    if not entry:
        return fmt.MISSING
    failed = _failed(row)
    if failed:
        return "✗ " + ",".join(SHORT.get(n, n) for n in failed)
    checks = entry.get("checks") or {}
    passed = sum(1 for c in checks.values() if c.get("status") == "pass")
    return f"{passed}/{len(checks)} ✓"


def conformance_cell(row: ScoreRow) -> str:
    """Conformance in one short cell: failed checks (✗), probes refused that the reference
    answered (⊘N) and answers cut short (✂N); `gaps` and `conformance_summary` spell them out."""
    score = row.score
    cells = []
    if _failed(row) or not (score.refused_probes or score.cut_probes):
        cells.append(_checks_cell(row))
    if score.refused_probes:
        cells.append(f"⊘{score.refused_probes}")
    if score.cut_probes:
        cells.append(f"✂{score.cut_probes}")
    return " ".join(cells)


def _conformance_weight(row: ScoreRow) -> int:
    return 10 * len(_failed(row)) + row.score.refused_probes + row.score.cut_probes


COLUMNS: tuple[Column, ...] = (
    Column("endpoint", "endpoint", lambda r: r.name, endpoint_text, numeric=False),
    Column("name", "endpoint", lambda r: r.name, name_text, numeric=False),
    Column(
        "verdict",
        "verdict",
        lambda r: r.score.verdict if r.scored else None,
        lambda r: r.score.verdict if r.scored else fmt.MISSING,
        numeric=False,
    ),
    Column(
        "verdict_glyph",
        "verdict",
        lambda r: r.score.verdict,
        verdict_glyph_text,
        numeric=False,
        width=14,
    ),
    Column(
        "fidelity",
        "fidelity [95% CI]",
        _field("fidelity"),
        lambda r: fmt.fidelity(r.score.fidelity, r.score.ci_low, r.score.ci_high),
        title="0–100, calibrated by the reference's own noise floor; bootstrap interval",
        descending=True,
        width=16,
    ),
    _measured(
        "fidelity_value",
        "fidelity",
        "fidelity",
        fmt.num,
        title="0–100, calibrated by the reference's own noise floor",
        descending=True,
        width=5,
    ),
    Column(
        "ci",
        "95% CI",
        _field("ci_low"),
        lambda r: fmt.interval(r.score.ci_low, r.score.ci_high),
        title="bootstrap over probes",
        descending=True,
        width=9,
    ),
    _measured(
        "accuracy",
        "accuracy",
        "accuracy",
        fmt.pct,
        title="of the probes the reference passes, the share this endpoint passes",
        short="acc",
        descending=True,
        width=4,
    ),
    _measured(
        "tool_f1",
        "tool F1",
        "tool_f1",
        fmt.ratio,
        title="K2 Vendor Verifier tool-call trigger F1 against the reference",
        descending=True,
        width=4,
    ),
    _measured(
        "kl",
        "KL",
        "kl_mean",
        fmt.kl,
        title="mean KL divergence (nats) on the shared prefix",
        # `0.0120`, `12.3`, and `3.5e-07` for a kernel's float noise.
        width=7,
    ),
    _measured(
        "top1",
        "top-1",
        "top1_agreement",
        fmt.pct,
        title="share of compared positions with the same most likely token",
        descending=True,
        width=4,
    ),
    _measured(
        "agreement",
        "tokens",
        "token_agreement",
        fmt.pct,
        title="token agreement with the reference (LCS share)",
        descending=True,
        width=4,
    ),
    _measured(
        "ttft",
        "TTFT p50",
        "ttft_p50",
        fmt.ms,
        width=8,
    ),
    _measured(
        "ttft_p90",
        "TTFT p90",
        "ttft_p90",
        fmt.ms,
        width=8,
    ),
    _measured(
        "tps",
        "tok/s p50",
        "tps_p50",
        fmt.tps,
        title="output tokens per second after the first token",
        descending=True,
        width=6,
    ),
    # Without the estimated-usage star: where there is no room for the note that explains it.
    _measured(
        "cost",
        "cost",
        "cost_usd",
        fmt.usd,
        title="what this run cost on this endpoint",
        # `$0.0000861`: three significant digits of a fraction of a cent.
        width=10,
    ),
    Column(
        "run_cost",
        "run cost",
        _field("cost_usd"),
        run_cost_text,
        title="what this run cost on this endpoint (* from estimated token counts)",
        width=11,
    ),
    _measured(
        "cost_per_pass",
        "$/pass",
        "cost_per_pass",
        fmt.usd,
        title="run cost per passed check",
        width=10,
    ),
    Column(
        "verdict_cost",
        "to verdict",
        lambda r: None if r.cost_to_verdict is None else r.cost_to_verdict.usd,
        verdict_cost_text,
        title="this endpoint's requests and USD up to the probe that decided its verdict "
        "(--until-decided), else all it was sent",
    ),
    Column(
        "errors",
        "errors",
        _field("errors"),
        lambda r: str(r.score.errors or 0),
        short="err",
        width=3,
    ),
    Column(
        "gaps",
        "gaps",
        _field("refused_probes"),
        gap_text,
        numeric=False,
        title="conformance gaps: features this endpoint refused that the reference serves "
        "(probes not measured), and answers cut short (✂)",
    ),
    Column(
        "conformance",
        "conformance",
        _conformance_weight,
        conformance_cell,
        numeric=False,
        title="failed conformance checks (✗), probes refused that the reference answered (⊘) "
        "and answers cut short (✂)",
        short="conform.",
        descending=True,
        width=14,
    ),
    Column(
        "conformance_summary",
        "conformance",
        lambda r: ",".join(_failed(r)) or None,
        conformance_summary,
        numeric=False,
        title="conformance checks: parameters honoured, usage billed, context kept",
    ),
)

BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}

# What each front end shows, in order.
TUI_KEYS = (
    "name",
    "fidelity",
    "verdict_glyph",
    "accuracy",
    "tool_f1",
    "kl",
    "top1",
    "ttft",
    "tps",
    "cost",
    "errors",
    "conformance",
)
REPORT_KEYS = (
    "endpoint",
    "verdict",
    "fidelity_value",
    "ci",
    "accuracy",
    "tool_f1",
    "kl",
    "top1",
    "agreement",
    "ttft",
    "ttft_p90",
    "tps",
    "run_cost",
    "cost_per_pass",
    "verdict_cost",
    "errors",
    "gaps",
    "conformance_summary",
)
# What a terminal has room for: headless runs and `vvtui score`.
TERMINAL_KEYS = (
    "endpoint",
    "fidelity_value",
    "ci",
    "verdict",
    "accuracy",
    "tool_f1",
    "kl",
    "ttft",
    "tps",
    "run_cost",
    "verdict_cost",
    "errors",
    "gaps",
    "conformance_summary",
)


def pick(keys: Iterable[str]) -> tuple[Column, ...]:
    return tuple(BY_KEY[k] for k in keys)


def texts(row: ScoreRow, keys: Iterable[str]) -> dict[str, str]:
    return {k: BY_KEY[k].text(row) for k in keys}


def any_estimated(rows: Iterable[ScoreRow]) -> bool:
    """Whether a run cost is starred, so the table needs ESTIMATED_NOTE under it."""
    return any(r.score.estimated_usage for r in rows)
