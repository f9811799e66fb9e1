"""The scoreboard every report shows, its run metadata and verdict sentences, defined once so
Markdown, HTML and CSV agree on columns and wording."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vvtui.model import EndpointInfo
from vvtui.reports import fmt
from vvtui.reports.data import ReportData
from vvtui.scoring.report import NO_ANSWERS
from vvtui.untrusted import shown

Score = dict[str, Any]

# Marks a run cost computed from vvtui's own token counts; every table showing it says so.
ESTIMATED = "*"
ESTIMATED_NOTE = "* cost from estimated token counts (the provider sent no usage)"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    # The raw value (for sorting and CSV) and its display text.
    value: Callable[[EndpointInfo, Score], Any]
    text: Callable[[EndpointInfo, Score], str]
    numeric: bool = True
    title: str = ""


def _get(key: str) -> Callable[[EndpointInfo, Score], Any]:
    return lambda _e, s: s.get(key)


COLUMNS: tuple[Column, ...] = (
    Column(
        "endpoint",
        "endpoint",
        lambda e, _s: e.name,
        lambda e, _s: e.name + (" (ref)" if e.reference else ""),
        numeric=False,
    ),
    Column(
        "verdict",
        "verdict",
        _get("verdict"),
        lambda _e, s: s.get("verdict") or fmt.MISSING,
        numeric=False,
    ),
    Column(
        "fidelity",
        "fidelity",
        _get("fidelity"),
        lambda _e, s: fmt.num(s.get("fidelity")),
        title="0–100, calibrated by the reference's own noise floor",
    ),
    Column(
        "ci",
        "95% CI",
        _get("ci_low"),
        lambda _e, s: fmt.fidelity_ci(s),
        title="bootstrap over probes",
    ),
    Column(
        "accuracy",
        "accuracy",
        _get("accuracy"),
        lambda _e, s: fmt.pct(s.get("accuracy")),
        title="of the probes the reference passes, the share this endpoint passes",
    ),
    Column(
        "tool_f1",
        "tool F1",
        _get("tool_f1"),
        lambda _e, s: fmt.num(s.get("tool_f1"), ".2f"),
        title="K2 Vendor Verifier tool-call trigger F1 against the reference",
    ),
    Column(
        "kl_mean",
        "KL",
        _get("kl_mean"),
        lambda _e, s: fmt.kl(s.get("kl_mean")),
        title="mean KL divergence (nats) on the shared prefix",
    ),
    Column(
        "top1",
        "top-1",
        _get("top1_agreement"),
        lambda _e, s: fmt.pct(s.get("top1_agreement")),
        title="share of compared positions with the same most likely token",
    ),
    Column(
        "agreement",
        "tokens",
        _get("token_agreement"),
        lambda _e, s: fmt.pct(s.get("token_agreement")),
        title="token agreement with the reference (LCS share)",
    ),
    Column("ttft_p50", "TTFT p50", _get("ttft_p50"), lambda _e, s: fmt.ms(s.get("ttft_p50"))),
    Column("ttft_p90", "TTFT p90", _get("ttft_p90"), lambda _e, s: fmt.ms(s.get("ttft_p90"))),
    Column(
        "tps_p50",
        "tok/s p50",
        _get("tps_p50"),
        lambda _e, s: fmt.tps(s.get("tps_p50")),
        title="output tokens per second after the first token",
    ),
    Column(
        "cost_usd",
        "run cost",
        _get("cost_usd"),
        lambda _e, s: fmt.usd(s.get("cost_usd")) + (ESTIMATED if s.get("estimated_usage") else ""),
        title="what this run cost on this endpoint (* from estimated token counts)",
    ),
    Column(
        "cost_per_pass",
        "$/pass",
        _get("cost_per_pass"),
        lambda _e, s: fmt.usd(s.get("cost_per_pass")),
        title="run cost per passed check",
    ),
    Column(
        "verdict_cost",
        "to verdict",
        lambda _e, s: (s.get("cost_to_verdict") or {}).get("usd"),
        lambda _e, s: fmt.verdict_cost(s.get("cost_to_verdict")),
        title="this endpoint's requests and USD up to the probe that decided its verdict "
        "(--until-decided), else all it was sent",
    ),
    Column("errors", "errors", _get("errors"), lambda _e, s: str(s.get("errors") or 0)),
    Column(
        "gaps",
        "gaps",
        _get("refused_probes"),
        lambda _e, s: gap_text(s),
        numeric=False,
        title="conformance gaps: features this endpoint refused that the reference serves "
        "(probes not measured), and answers cut short (✂)",
    ),
    Column(
        "conformance",
        "conformance",
        lambda _e, s: ",".join((s.get("conformance") or {}).get("failed") or []) or None,
        lambda _e, s: conformance_text(s),
        numeric=False,
        title="conformance checks: parameters honoured, usage billed, context kept",
    ),
)


def gap_text(score: Score) -> str:
    """`no json_schema · ✂ 2 cut`: what an endpoint could not be measured on, and its cut
    answers; – when neither."""
    # Deferred like every scoring import here: reports load without numpy until they score.
    from vvtui.scoring.verdict_gates import describe_gaps

    parts = []
    if score.get("gaps"):
        parts.append(describe_gaps(score["gaps"]))
    if score.get("cut_probes"):
        parts.append(f"✂ {score['cut_probes']} cut")
    return " · ".join(parts) or fmt.MISSING


def conformance_text(score: Score) -> str:
    from vvtui.scoring.conformance import summary_line

    entry = score.get("conformance") or {}
    return summary_line(entry) if entry else fmt.MISSING


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
    s = data.endpoint_score(endpoint.name)
    t = data.threshold
    fid, lo, hi = s.get("fidelity"), s.get("ci_low"), s.get("ci_high")
    verdict = s.get("verdict") or "inconclusive"
    interval = f"fidelity {fmt.num(fid)}, 95% CI {fmt.fidelity_ci(s)}"
    # Findings outside the interval that capped the verdict (scoring.verdict_gates).
    reasons = [str(r) for r in s.get("verdict_reasons") or []]
    if verdict == "reference":
        text = "the reference: every other endpoint is measured against it"
        floor = s.get("noise_floor")
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
        if (s.get("n_probes") or 0) < minimum:
            text = (
                f"inconclusive: {interval} from only {s.get('n_probes')} probes (needs {minimum})"
            )
        else:
            text = f"inconclusive: {interval} straddles {t:g}; more probes would narrow it"
    errors = s.get("errors") or 0
    if errors:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted((s.get("errors_by_kind") or {}).items()))
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
    unmeasured = [k for k, v in (s.get("measured") or {}).items() if not v]
    if unmeasured and verdict != "reference":
        text += "; not measured: " + ", ".join(unmeasured)
    return shown(text)


def conformance_table(data: ReportData) -> tuple[list[str], list[list[str]], list[str]]:
    """Endpoints × conformance checks: headers, one row per checked endpoint (its cost, then
    each check's status), and one note per check that did not pass, with its reason. Empty when
    no endpoint was checked."""
    from vvtui.scoring.conformance import CHECKS, FAIL, PASS, SHORT

    snap = data.snapshot
    checked = [e for e in snap.endpoints if data.endpoint_score(e.name).get("conformance")]
    if not checked:
        return [], [], []
    headers = ["endpoint", "requests", "tokens in+out", *(SHORT[c] for c in CHECKS)]
    rows, notes = [], []
    for e in checked:
        entry = data.endpoint_score(e.name)["conformance"]
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
