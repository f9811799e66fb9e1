import json
from xml.etree import ElementTree as ET

import pytest

from tests.report_helpers import SECRET, fixture
from vvtui.cli import main
from vvtui.redact import forget_all, remember
from vvtui.reports.gates import Gates, evaluate_gates
from vvtui.reports.junit import junit_xml


def by_key(results):
    return {(g.endpoint, g.gate): g for g in results}


def test_min_fidelity_uses_the_point_estimate_and_skips_the_reference():
    results = by_key(evaluate_gates(fixture(), Gates(min_fidelity=90)))
    assert ("reference", "min-fidelity") not in results
    assert results[("noisy-kernel", "min-fidelity")].passed
    failed = results[("int4", "min-fidelity")]
    assert not failed.passed
    # The interval (45.19–99.21) rounded outwards, as everywhere else.
    assert failed.message == "int4: fidelity 72.5 (95% CI 45.1–99.3) < 90.0"
    assert failed.value == pytest.approx(72.462, abs=1e-3) and failed.limit == 90
    assert by_key(evaluate_gates(fixture(), Gates(min_fidelity=72)))[
        ("int4", "min-fidelity")
    ].passed


def test_max_ttft_ms_uses_the_median():
    snap = fixture()
    ttft = snap.scores["endpoints"]["int4"]["ttft_p50"] * 1000
    results = by_key(evaluate_gates(snap, Gates(max_ttft_ms=ttft + 1)))
    assert results[("int4", "max-ttft-ms")].passed
    assert results[("reference", "max-ttft-ms")].passed is (
        snap.scores["endpoints"]["reference"]["ttft_p50"] * 1000 <= ttft + 1
    )
    results = by_key(evaluate_gates(snap, Gates(max_ttft_ms=ttft - 1)))
    assert not results[("int4", "max-ttft-ms")].passed
    assert "TTFT p50" in results[("int4", "max-ttft-ms")].message


def test_max_cost_usd_is_the_run_cost_per_endpoint():
    snap = fixture()
    results = by_key(evaluate_gates(snap, Gates(max_cost_usd=0.001)))
    assert not results[("reference", "max-cost-usd")].passed  # $0.0014
    assert results[("noisy-kernel", "max-cost-usd")].passed  # $0.0007
    assert results[("reference", "max-cost-usd")].message == "reference: run cost $0.0014 > $0.0010"


def test_a_failed_gate_shows_enough_digits_to_see_why():
    snap = fixture()
    cost = snap.scores["endpoints"]["int4"]["cost_usd"]
    fidelity = snap.scores["endpoints"]["int4"]["fidelity"]
    # Limits that read the same as the value at the usual precision ($0.0003, 72.5).
    gates = Gates(max_cost_usd=cost - 1e-6, min_fidelity=round(fidelity, 1) + 0.04)
    results = by_key(evaluate_gates(snap, gates))
    cost_message = results[("int4", "max-cost-usd")].message
    shown, limit_shown = cost_message.split("run cost ")[1].split(" > ")
    assert (shown, limit_shown) == ("$0.000257", "$0.000256"), cost_message
    fid_message = results[("int4", "min-fidelity")].message
    assert fid_message.endswith(f"< {gates.min_fidelity:.2f}"), fid_message


@pytest.mark.parametrize(
    ("gate", "key", "words"),
    [
        (Gates(min_fidelity=10), "fidelity", "fidelity could not be measured"),
        (Gates(max_ttft_ms=10_000), "ttft_p50", "TTFT not measurable"),
        (Gates(max_cost_usd=100), "cost_usd", "cost unknown"),
    ],
)
def test_not_measurable_fails(gate, key, words):
    snap = fixture()
    snap.scores["endpoints"]["int4"][key] = None
    results = evaluate_gates(snap, gate)
    int4 = [g for g in results if g.endpoint == "int4"]
    assert len(int4) == 1 and not int4[0].passed and words in int4[0].message
    assert int4[0].value is None
    # The endpoints that were measured pass these lenient limits (slow has no TTFT either).
    others = [g for g in results if g.endpoint not in ("int4", "slow")]
    assert others and all(g.passed for g in others)


def test_no_scores_at_all_fails_every_gate():
    snap = fixture()
    snap.scores = {}
    results = evaluate_gates(snap, Gates(min_fidelity=0, max_ttft_ms=1e9, max_cost_usd=1e9))
    assert results and not any(g.passed for g in results)


def test_junit_follows_the_testsuites_layout():
    snap = fixture()
    remember(SECRET)
    try:
        snap.endpoints[1].base_url = f"http://x/v1?key={SECRET}"
        results = evaluate_gates(snap, Gates(min_fidelity=90, max_ttft_ms=1e6))
        xml = junit_xml(snap, results)
    finally:
        forget_all()
    assert SECRET not in xml
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["vvtui.run"] + [
        f"vvtui.{e.name}" for e in snap.endpoints
    ]
    total = failures = 0
    for s in suites:
        for attr in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp"):
            assert s.get(attr) is not None, (s.get("name"), attr)
        assert "+" not in s.get("timestamp") and "T" in s.get("timestamp")
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases)
        assert int(s.get("failures")) == sum(c.find("failure") is not None for c in cases)
        # Children in schema order: properties, testcases, then output.
        tags = [child.tag for child in s]
        assert tags == sorted(tags, key=["properties", "testcase", "system-out"].index)
        for c in cases:
            assert c.get("classname") == s.get("name") and c.get("name") and c.get("time")
            assert list(c) == [] or [x.tag for x in c] in (["failure"], ["error"])
            failure = c.find("failure")
            if failure is not None:
                assert failure.get("message") and failure.get("type") == c.get("name")
        total += len(cases)
        failures += int(s.get("failures"))
    assert int(root.get("tests")) == total == 1 + len(results)
    assert int(root.get("failures")) == failures == sum(not g.passed for g in results)
    int4 = root.find("testsuite[@name='vvtui.int4']")
    names = {c.get("name"): c for c in int4.findall("testcase")}
    assert set(names) == {"min-fidelity", "max-ttft-ms"}
    assert names["min-fidelity"].find("failure") is not None
    assert names["max-ttft-ms"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in int4.find("properties")}
    assert props["verdict"] == "inconclusive" and props["model"] == "vv-sim-8b"


def test_junit_reports_an_incomplete_run_as_an_error():
    snap = fixture()
    snap.run.complete = False
    root = ET.fromstring(junit_xml(snap, []))
    case = root.find("testsuite[@name='vvtui.run']/testcase[@name='complete']")
    assert case.find("error") is not None and root.get("errors") == "1"


def test_demo_min_fidelity_gate_names_the_endpoints_below(tmp_path, capsys):
    out, junit = tmp_path / "demo.json", tmp_path / "junit.xml"
    code = main(
        [
            "demo",
            "--headless",
            "--suite",
            "quick",
            "--speed",
            "50",
            "-q",
            "--out",
            str(out),
            "--min-fidelity",
            "90",
            "--junit",
            str(junit),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    scores = json.loads(out.read_text())["scores"]["endpoints"]
    below = {n for n, s in scores.items() if not s["reference"] and s["fidelity"] < 90}
    assert {"int2", "substituted"} <= below  # the damaged rungs of the ladder
    named = {
        line.split("gate failed: ", 1)[1].split(":", 1)[0]
        for line in err.splitlines()
        if line.startswith("gate failed: ")
    }
    assert named == below
    root = ET.fromstring(junit.read_text())
    failed = {
        s.get("name").removeprefix("vvtui.")
        for s in root.findall("testsuite")
        if s.find("testcase/failure") is not None
    }
    # ... and the hosts failing a conformance check the reference passes (their own testcase).
    nonconformant = {n for n, s in scores.items() if (s.get("conformance") or {}).get("failed")}
    assert "capped" in nonconformant
    assert failed == below | nonconformant
