"""JUnit XML for CI systems (GitHub, GitLab, Jenkins, Azure read it natively).

Layout, following the common (Ant/Jenkins) JUnit conventions:

    <testsuites name="vvtui" tests= failures= errors= skipped= time=>
      <testsuite name="vvtui.run" ...>            one testcase, "complete": an <error> when
        <properties> vvtui version, seed, suites   the run was cancelled or interrupted
        <testcase classname="vvtui.run" name="complete"/>
      </testsuite>
      <testsuite name="vvtui.<endpoint>" ...>     one per endpoint
        <properties> model, base URL, verdict, fidelity, interval, TTFT, cost, errors
        <testcase classname="vvtui.<endpoint>" name="min-fidelity"> one per gate set,
          <failure message= type="min-fidelity">  with a <failure> when the gate failed
        </testcase>
        <testcase name="conformance">             when conformance was checked: a <failure>
                                                  naming each check failed that the reference
                                                  passes
        <system-out> the endpoint's summary and each gate's numbers
      </testsuite>
    </testsuites>

No key or header value is written; every string passes `untrusted.shown` (redacted, control
characters made visible: XML 1.0 cannot even hold most of them).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from vvtui.model import EndpointInfo, Snapshot
from vvtui.reports import fmt
from vvtui.reports.data import stored_scores
from vvtui.reports.gates import GateResult
from vvtui.reports.scoreboard import conformance_text
from vvtui.untrusted import shown

if TYPE_CHECKING:
    from vvtui.scoring.report import EndpointScore


def _timestamp(iso: str | None) -> str:
    """ISO 8601 without a zone (the JUnit schema's form); snapshot times are UTC."""
    if not iso:
        return "1970-01-01T00:00:00"
    try:
        return datetime.fromisoformat(iso).replace(tzinfo=None).isoformat(timespec="seconds")
    except ValueError:
        return iso[:19]


def _duration(snapshot: Snapshot) -> float:
    try:
        start = datetime.fromisoformat(snapshot.run.started_at or "")
        end = datetime.fromisoformat(snapshot.run.finished_at or "")
    except ValueError:
        return 0.0
    return max(0.0, (end - start).total_seconds())


def _num(value: Any, spec: str) -> str:
    return "" if value is None else format(value, spec)


def _suite(
    parent: ET.Element, name: str, index: int, timestamp: str, time: float = 0.0
) -> ET.Element:
    return ET.SubElement(
        parent,
        "testsuite",
        name=name,
        id=str(index),
        package="vvtui",
        hostname="localhost",
        timestamp=timestamp,
        time=f"{time:.3f}",
    )


def _props(suite: ET.Element, items: list[tuple[str, str]]) -> None:
    props = ET.SubElement(suite, "properties")
    for key, value in items:
        ET.SubElement(props, "property", name=key, value=shown(value))


def _count(suite: ET.Element) -> tuple[int, int, int]:
    cases = suite.findall("testcase")
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    return len(cases), failures, errors


def _endpoint_props(e: EndpointInfo, s: EndpointScore | None) -> list[tuple[str, str]]:
    props = [("model", e.model), ("base_url", e.base_url), ("reference", str(e.reference).lower())]
    if s is None:  # no score stored for it: the numbers are empty, not zeros
        return [*props, *((k, "") for k in _SCORE_PROPS), ("errors", "0"), ("conformance", "")]
    ttft_ms = None if s.ttft_p50 is None else s.ttft_p50 * 1000
    return [
        *props,
        ("verdict", s.verdict),
        ("fidelity", _num(s.fidelity, ".2f")),
        ("ci_low", _num(s.ci_low, ".2f")),
        ("ci_high", _num(s.ci_high, ".2f")),
        ("ttft_p50_ms", _num(ttft_ms, ".0f")),
        ("cost_usd", _num(s.cost_usd, ".6f")),
        ("errors", str(s.errors)),
        ("conformance", conformance_text(s) if s.conformance else ""),
    ]


_SCORE_PROPS = ("verdict", "fidelity", "ci_low", "ci_high", "ttft_p50_ms", "cost_usd")


def _summary(e: EndpointInfo, s: EndpointScore | None) -> str:
    parts = [f"{e.name} ({e.model})", f"verdict {s.verdict if s is not None else '–'}"]
    if s is None:
        return ", ".join([*parts, "0 errors"])
    if s.fidelity is not None:
        shown = fmt.interval(s.ci_low, s.ci_high)
        ci = "" if shown == fmt.MISSING else f" [{shown}]"
        parts.append(f"fidelity {s.fidelity:.1f}{ci}")
    if s.ttft_p50 is not None:
        parts.append(f"TTFT p50 {s.ttft_p50 * 1000:.0f} ms")
    if s.cost_usd is not None:
        parts.append(f"cost ${s.cost_usd:.4f}")
    parts.append(f"{s.errors} errors")
    return ", ".join(parts)


def junit_xml(snapshot: Snapshot, gate_results: list[GateResult]) -> str:
    stamp = _timestamp(snapshot.run.started_at or snapshot.created_at)
    root = ET.Element("testsuites", name="vvtui")
    scores = stored_scores(snapshot)

    run = _suite(root, "vvtui.run", 0, stamp, _duration(snapshot))
    _props(
        run,
        [
            ("vvtui_version", snapshot.vvtui_version),
            ("seed", str(snapshot.run.seed)),
            ("suites", ",".join(snapshot.run.suites)),
            ("command", snapshot.run.command or ""),
            ("complete", str(snapshot.run.complete).lower()),
            ("results", str(len(snapshot.results))),
        ],
    )
    case = ET.SubElement(run, "testcase", classname="vvtui.run", name="complete", time="0")
    if not snapshot.run.complete:
        message = f"the run did not finish: {len(snapshot.results)} results gathered"
        ET.SubElement(case, "error", message=message, type="incomplete").text = message

    by_endpoint: dict[str, list[GateResult]] = {}
    for g in gate_results:
        by_endpoint.setdefault(g.endpoint, []).append(g)
    for index, e in enumerate(snapshot.endpoints, 1):
        s = scores.get(e.name)
        suite = _suite(root, f"vvtui.{e.name}", index, stamp)
        _props(suite, _endpoint_props(e, s))
        for g in by_endpoint.get(e.name, []):
            case = ET.SubElement(
                suite, "testcase", classname=f"vvtui.{e.name}", name=g.gate, time="0"
            )
            if not g.passed:
                failure = ET.SubElement(case, "failure", message=shown(g.message), type=g.gate)
                failure.text = shown(g.message)
        conformance = s.conformance if s is not None else {}
        if s is not None and conformance and not e.reference:
            case = ET.SubElement(
                suite, "testcase", classname=f"vvtui.{e.name}", name="conformance", time="0"
            )
            if conformance.get("failed"):
                message = "; ".join(s.verdict_reasons or conformance["failed"])
                failure = ET.SubElement(case, "failure", message=shown(message), type="conformance")
                failure.text = shown(message)
        # Passing gates say their numbers here: the Ant schema allows no output in a testcase.
        lines = [_summary(e, s)]
        lines += [
            f"{'PASS' if g.passed else 'FAIL'} {g.message}" for g in by_endpoint.get(e.name, [])
        ]
        ET.SubElement(suite, "system-out").text = shown("\n".join(lines))

    totals = [0, 0, 0]
    for suite in root.findall("testsuite"):
        for i, n in enumerate(_count(suite)):
            totals[i] += n
        # Schema order: properties, testcase*, system-out, system-err.
        suite[:] = sorted(suite, key=lambda el: {"properties": 0, "testcase": 1}.get(el.tag, 2))
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("skipped", "0")
    root.set("time", f"{_duration(snapshot):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
