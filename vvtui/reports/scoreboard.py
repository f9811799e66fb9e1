"""The scoreboard every report shows (its columns: vvtui.present.columns), its run metadata and
verdict sentences, defined once so Markdown, HTML and CSV agree on columns and wording."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vvtui.model import EndpointInfo
from vvtui.present import columns as spec
from vvtui.present.columns import ESTIMATED, ESTIMATED_NOTE, ScoreRow
from vvtui.reports import fmt
from vvtui.reports.data import ReportData
from vvtui.scoring.report import NO_ANSWERS
from vvtui.untrusted import shown

if TYPE_CHECKING:
    from vvtui.scoring.report import EndpointScore

__all__ = [
    "COLUMNS",
    "ESTIMATED",
    "ESTIMATED_NOTE",
    "conformance_table",
    "conformance_text",
    "gap_text",
    "metadata",
    "rows",
    "verdict_sentence",
]

# The scoreboard of the Markdown and HTML reports, from the one spec every scoreboard shares
# (vvtui.present.columns).
COLUMNS: tuple[spec.Column, ...] = spec.pick(spec.REPORT_KEYS)


def rows(data: ReportData) -> list[ScoreRow]:
    """One typed row per endpoint, in the config's order: its score and what its verdict cost."""
    costs = data.verdict_costs
    out = []
    for e in data.snapshot.endpoints:
        score = data.scores.endpoints.get(e.name)
        typed = score or spec.unscored(e.name)
        out.append(ScoreRow(typed, e, costs.get(e.name), scored=score is not None))
    return out


def _typed(score: EndpointScore | Mapping[str, Any]) -> ScoreRow:
    return ScoreRow(_score(score, ""))


def _score(score: EndpointScore | Mapping[str, Any] | None, name: str) -> EndpointScore:
    """A score as the typed record; an endpoint with none reads as an empty one (inconclusive,
    nothing measured). A mapping is a stored report's entry."""
    from vvtui.scoring.report import EndpointScore

    if score is None:
        return EndpointScore(name=name)
    if isinstance(score, EndpointScore):
        return score
    return EndpointScore.from_dict({"name": name, **score})


def gap_text(score: EndpointScore | Mapping[str, Any]) -> str:
    """`no json_schema · ✂ 2 cut` (vvtui.present.columns.gap_text)."""
    return spec.gap_text(_typed(score))


def conformance_text(score: EndpointScore | Mapping[str, Any]) -> str:
    """`9/9 pass` or `fail: stop, usage`; – when not checked."""
    return spec.conformance_summary(_typed(score))


def metadata(data: ReportData) -> list[tuple[str, str]]:
    """The run as (label, value) lines: when, which vvtui, suites and seed, the reference, how
    the scores were obtained. Never a key, a header value or a config path."""
    snap = data.snapshot
    run = snap.run
    kinds = Counter(p.kind for p in snap.probes)
    errors = sum(1 for r in snap.results if r.error is not None)
    ref = data.reference
    items = [
        ("snapshot written", snap.created_at or fmt.MISSING),
        ("vvtui version", f"{snap.vvtui_version} (snapshot schema {snap.schema_version})"),
        ("command", run.command or fmt.MISSING),
        ("suites", ", ".join(run.suites) or fmt.MISSING),
        ("seed", str(run.seed)),
        (
            "probes",
            f"{len(snap.probes)} (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")"
            if snap.probes
            else "0",
        ),
        ("started", run.started_at or fmt.MISSING),
        ("finished", run.finished_at or fmt.MISSING),
        ("complete", "yes" if run.complete else "no: the results are what was gathered"),
        ("results", f"{len(snap.results)} ({errors} errors)"),
        ("reference repeats", str(run.reference_repeats)),
        ("reference", f"{ref.name} ({ref.model})" if ref else fmt.MISSING),
        ("scores", data.score_note),
        ("stopping", _stopping_note(run.stopping)),
        ("tokenizers", ", ".join(data.scores.meta.get("tokenizers") or []) or fmt.MISSING),
    ]
    return [(k, shown(v)) for k, v in items]


def _stopping_note(stopping: dict[str, Any] | None) -> str:
    if not stopping:
        return "none: every probe sent to every endpoint"
    rule = stopping.get("rule") or {}
    budgets = [
        f"{label} {value:g}"
        for label, value in (
            ("max probes", rule.get("max_probes")),
            ("max USD per endpoint", rule.get("max_cost_usd")),
            ("max USD in total", rule.get("max_total_cost_usd")),
        )
        if value is not None
    ]
    reasons = Counter(str(s.get("reason")) for s in (stopping.get("stopped") or {}).values())
    text = (
        "until decided: each endpoint stopped once its anytime-valid 95% interval cleared "
        f"{rule.get('threshold', 90):g} (intervals shown are that confidence sequence)"
    )
    if budgets:
        text += "; budget " + ", ".join(budgets)
    if reasons:
        text += "; stopped: " + ", ".join(f"{k} {n}" for k, n in sorted(reasons.items()))
    return text


def verdict_sentence(data: ReportData, endpoint: EndpointInfo) -> str:
    """Why the endpoint got its verdict, in one sentence."""
    s = _score(data.endpoint_score(endpoint.name), endpoint.name)
    t = data.threshold
    fid, lo, hi = s.fidelity, s.ci_low, s.ci_high
    verdict = s.verdict
    interval = f"fidelity {fmt.num(fid)}, 95% CI {fmt.interval(lo, hi)}"
    # Findings outside the interval that capped the verdict (scoring.verdict_gates).
    reasons = list(s.verdict_reasons)
    if verdict == "reference":
        text = "the reference: every other endpoint is measured against it"
        floor = s.noise_floor
        if floor is not None:
            text += f" (its own noise floor: damage {floor:.4f} against its repeats)"
    elif verdict == NO_ANSWERS:
        text = "no answers: not one request to it succeeded, so there is nothing to score"
    elif fid is None or lo is None or hi is None:
        text = "inconclusive: fidelity could not be measured"
    elif reasons and lo >= t and verdict != "faithful":
        text = f"{verdict}: {interval}, at or above {t:g}, but {'; '.join(reasons)}"
        reasons = []
    elif verdict == "faithful":
        text = f"faithful: {interval}, entirely at or above {t:g}"
    elif verdict == "degraded":
        text = f"degraded: {interval}, entirely below {t:g}"
    else:
        minimum = (data.scores.meta.get("constants") or {}).get("min_probes_for_verdict", 5)
        if s.n_probes < minimum:
            text = f"inconclusive: {interval} from only {s.n_probes} probes (needs {minimum})"
        else:
            text = f"inconclusive: {interval} straddles {t:g}; more probes would narrow it"
    errors = s.errors
    if errors:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(s.errors_by_kind.items()))
        text += f"; {errors} failed requests ({kinds})"
    if reasons:
        text += "; " + "; ".join(reasons)
    down = next(
        (
            r.error.message
            for r in data.snapshot.results
            if r.endpoint == endpoint.name and r.error is not None and r.error.kind == "down"
        ),
        None,
    )
    if down is not None:
        # Say why its circuit breaker opened: "endpoint down after 3 consecutive stalls".
        why = down.removeprefix("not sent: ").removeprefix("trial abandoned: ")
        text += f"; marked down: {why.split(',')[0]}"
    unmeasured = [k for k, v in s.measured.items() if not v]
    if unmeasured and verdict != "reference":
        text += "; not measured: " + ", ".join(unmeasured)
    return shown(text)


def conformance_table(data: ReportData) -> tuple[list[str], list[list[str]], list[str]]:
    """Endpoints × conformance checks: headers, one row per checked endpoint (its cost, then
    each check's status), and one note per check that did not pass, with its reason. Empty when
    no endpoint was checked."""
    from vvtui.scoring.conformance import CHECKS, FAIL, PASS, SHORT

    snap = data.snapshot
    entries = {
        e.name: _score(data.endpoint_score(e.name), e.name).conformance for e in snap.endpoints
    }
    checked = [e for e in snap.endpoints if entries[e.name]]
    if not checked:
        return [], [], []
    headers = ["endpoint", "requests", "tokens in+out", *(SHORT[c] for c in CHECKS)]
    rows, notes = [], []
    for e in checked:
        entry = entries[e.name]
        failed = set(entry.get("failed") or [])
        checks = entry.get("checks") or {}
        cells = []
        for name in CHECKS:
            status = (checks.get(name) or {}).get("status")
            if status == PASS:
                cells.append("pass")
            elif status == FAIL:
                cells.append("FAIL" if name in failed else "fail (as ref)")
            else:
                cells.append(fmt.MISSING if status is None else "not measured")
            reason = (checks.get(name) or {}).get("reason", "")
            if status is not None and status != PASS:
                notes.append(shown(f"{e.name} {name}: {status}: {reason}"))
        tokens = f"{entry.get('prompt_tokens', 0)}+{entry.get('completion_tokens', 0)}"
        rows.append([e.name, str(entry.get("requests", 0)), tokens, *cells])
    return headers, [[shown(c) for c in r] for r in rows], notes
