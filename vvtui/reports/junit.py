"""JUnit XML for CI systems: one testcase per endpoint × gate, one per errored endpoint."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from vvtui.model import Snapshot
from vvtui.redact import redact
from vvtui.reports.gates import GateResult


def junit_xml(snapshot: Snapshot, gate_results: list[GateResult]) -> str:
    failures = sum(not g.passed for g in gate_results)
    suite = ET.Element(
        "testsuite",
        name="vvtui",
        tests=str(len(gate_results)),
        failures=str(failures),
        errors="0",
        timestamp=snapshot.run.started_at or snapshot.created_at,
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("vvtui_version", snapshot.vvtui_version),
        ("seed", str(snapshot.run.seed)),
        ("suites", ",".join(snapshot.run.suites)),
        ("complete", str(snapshot.run.complete).lower()),
    ):
        ET.SubElement(props, "property", name=key, value=value)
    for g in gate_results:
        case = ET.SubElement(suite, "testcase", classname=f"vvtui.{g.endpoint}", name=g.gate)
        if not g.passed:
            failure = ET.SubElement(case, "failure", message=redact(g.message), type=g.gate)
            failure.text = redact(g.message)
        else:
            ET.SubElement(case, "system-out").text = redact(g.message)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")
