"""CSV exports: one row per result (`level="results"`) or one per endpoint (`"endpoints"`).

Numbers are written raw (seconds, shares in [0, 1], USD) so a spreadsheet can compute with them;
not measured is an empty cell. Untrusted text (answers, error messages, what a provider said
about itself) is redacted, and a cell that a spreadsheet would run as a formula (starting with
= + - @ or a tab) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from vvtui.model import Snapshot
from vvtui.present.columns import conformance_summary
from vvtui.reports.data import ReportData, report_data
from vvtui.untrusted import shown

LEVELS = ("results", "endpoints")

RESULT_COLUMNS = (
    "endpoint",
    "reference",
    "probe_id",
    "suite",
    "kind",
    "sample",
    "repeat",
    "ok",
    "checks_passed",
    "checks_total",
    "probe_mark",
    "probe_damage",
    "probe_agreement",
    "probe_first_divergence",
    "probe_cut_at",
    "error_kind",
    "error_status",
    "error_message",
    "finish_reason",
    "ttfb_s",
    "ttft_s",
    "total_s",
    "tokens_per_s",
    "input_tokens",
    "output_tokens",
    "usage_estimated",
    "cost_usd",
    "truncated",
    "attempts",
    "upstream_provider",
    "model_answered",
    "system_fingerprint",
    "flags",
    "started_at",
    "tool_calls",
    "text",
)

ENDPOINT_INFO_COLUMNS = (
    "endpoint",
    "reference",
    "model",
    "base_url",
    "protocol",
    "simulated",
    "price_input_per_mtok",
    "price_output_per_mtok",
    "price_source",
)
# EndpointScore fields written as they are, in this order.
SCORE_COLUMNS = (
    "verdict",
    "fidelity",
    "ci_low",
    "ci_high",
    "n_probes",
    "n_results",
    "damage",
    "noise_floor",
    "accuracy",
    "checks_passed",
    "checks_total",
    "tool_precision",
    "tool_recall",
    "tool_f1",
    "schema_accuracy",
    "tool_triggered",
    "tool_schema_ok",
    "kl_mean",
    "top1_agreement",
    "kl_positions",
    "kl_uncertain",
    "token_agreement",
    "mmd_p",
    "mmd_statistic",
    "mmd_probes",
    "leakage",
    "ttft_p50",
    "ttft_p90",
    "tps_p50",
    "tps_p90",
    "cost_usd",
    "cost_per_pass",
    "estimated_usage",
    "errors",
    "refused_probes",
    "cut_probes",
)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    """Untrusted text for a cell: redacted, control characters shown as `\\xNN` (a cell is
    also read with `cat` and `less -R`), and never a spreadsheet formula."""
    if not value:
        return ""
    value = shown(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cell(value: Any) -> str:
    """Numbers as Python writes them; every string (names from a config too) through `_text`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return _text(str(value))


def _write(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _iso(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def results_csv(data: ReportData) -> str:
    from vvtui.scoring import run_checks

    snap = data.snapshot
    probes = {p.id: p for p in snap.probes}
    ref = data.reference.name if data.reference else None
    rows = []
    for r in snap.results:
        probe = probes.get(r.probe_id)
        checks = run_checks(probe, r) if probe is not None else []
        summary = data.probe_summary(r.probe_id, r.endpoint)
        err = r.error
        calls = "; ".join(f"{c.name}({c.arguments})" for c in r.tool_calls)
        values: dict[str, Any] = {
            "endpoint": r.endpoint,
            "reference": r.endpoint == ref,
            "probe_id": r.probe_id,
            "suite": probe.suite if probe else "",
            "kind": probe.kind if probe else "",
            "sample": r.sample,
            "repeat": r.repeat,
            "ok": err is None,
            "checks_passed": sum(c.passed for c in checks) if checks else None,
            "checks_total": len(checks) if checks else None,
            "probe_mark": summary.get("mark"),
            "probe_damage": summary.get("damage"),
            "probe_agreement": summary.get("agreement"),
            "probe_first_divergence": summary.get("first_divergence"),
            "probe_cut_at": summary.get("cut_at"),
            "error_kind": None if err is None else err.kind,
            "error_status": None if err is None else err.status,
            "error_message": (None if err is None else err.message),
            "finish_reason": r.finish_reason,
            "ttfb_s": r.ttfb_s,
            "ttft_s": r.ttft_s,
            "total_s": r.total_s,
            "tokens_per_s": r.tokens_per_s,
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "usage_estimated": r.usage_estimated,
            "cost_usd": r.cost_usd,
            "truncated": r.truncated,
            "attempts": r.attempts,
            "upstream_provider": (r.upstream_provider),
            "model_answered": (r.model_answered),
            "system_fingerprint": (r.system_fingerprint),
            "flags": ";".join(r.flags),
            "started_at": _iso(r.started_at),
            "tool_calls": (calls),
            "text": (r.text),
        }
        rows.append([_cell(values[c]) for c in RESULT_COLUMNS])
    return _write(list(RESULT_COLUMNS), rows)


def endpoints_csv(data: ReportData) -> str:
    from vvtui.reports.scoreboard import rows as scoreboard_rows

    board = scoreboard_rows(data)
    scored = set(data.scores.endpoints)
    parts = sorted({k for row in board for k in row.score.parts})
    header = [
        *ENDPOINT_INFO_COLUMNS,
        *SCORE_COLUMNS,
        "errors_by_kind",
        "not_measured",
        "gaps",
        "verdict_reasons",
        "conformance",
        "conformance_failed",
        *(f"part_{p}" for p in parts),
        "scores",
    ]
    rows = []
    for line in board:
        e, s = line.endpoint, line.score
        assert e is not None  # a report's rows always carry their endpoint
        info: list[Any] = [
            e.name,
            e.reference,
            e.model,
            e.base_url,
            e.protocol,
            e.simulated,
            None if e.price is None else e.price.input,
            None if e.price is None else e.price.output,
            None if e.price is None else e.price.source,
        ]
        # Raw values; an endpoint the report has no score for has empty cells, not zeros.
        values = [getattr(s, c) if e.name in scored else None for c in SCORE_COLUMNS]
        kinds = ";".join(f"{k}={n}" for k, n in sorted(s.errors_by_kind.items()))
        unmeasured = ";".join(k for k, v in s.measured.items() if not v)
        row = [
            *info,
            *values,
            kinds,
            unmeasured,
            ";".join(f"{k}={n}" for k, n in sorted(s.gaps.items())),
            "; ".join(s.verdict_reasons),
            conformance_summary(line) if s.conformance else None,
            ";".join(s.conformance.get("failed") or []),
            *(s.parts.get(p) for p in parts),
            "stored" if data.rescored is None else "recomputed",
        ]
        rows.append([_cell(v) for v in row])
    return _write(header, rows)


def render_csv(snapshot: Snapshot, level: str = "results") -> str:
    """The snapshot as CSV: one row per result, or one per endpoint summary."""
    return render_csv_data(report_data(snapshot), level)


def render_csv_data(data: ReportData, level: str = "results") -> str:
    if level == "results":
        return results_csv(data)
    if level == "endpoints":
        return endpoints_csv(data)
    raise ValueError(f"unknown CSV level {level!r} (choose from {', '.join(LEVELS)})")
