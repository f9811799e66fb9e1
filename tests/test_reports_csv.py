import csv
import io

import pytest

from tests.report_helpers import SECRET, check_golden, fixture, hostile
from vvtui.redact import forget_all, remember
from vvtui.reports.csv_report import RESULT_COLUMNS, render_csv


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_results_csv_golden():
    check_golden("quick.results.csv", render_csv(fixture(), "results"))


def test_endpoints_csv_golden():
    check_golden("quick.endpoints.csv", render_csv(fixture(), level="endpoints"))


def test_one_row_per_result_and_per_endpoint():
    snap = fixture()
    results = rows(render_csv(snap))
    assert len(results) == len(snap.results)
    assert list(results[0]) == list(RESULT_COLUMNS)
    slow = [r for r in results if r["endpoint"] == "slow"]
    assert slow and all(r["ok"] == "false" and r["error_kind"] for r in slow)
    assert all(r["ttft_s"] == "" for r in slow)  # not measured is empty, never 0
    endpoints = rows(render_csv(snap, "endpoints"))
    assert [r["endpoint"] for r in endpoints] == [e.name for e in snap.endpoints]
    by_name = {r["endpoint"]: r for r in endpoints}
    assert float(by_name["int4"]["fidelity"]) == pytest.approx(
        snap.scores["endpoints"]["int4"]["fidelity"]
    )
    assert by_name["slow"]["errors_by_kind"] == "api=20"
    assert by_name["reference"]["scores"] == "stored"


def test_untrusted_text_cannot_become_a_formula_or_leak_a_key():
    remember(SECRET)
    try:
        text = render_csv(hostile())
        endpoints = render_csv(hostile(), "endpoints")
    finally:
        forget_all()
    assert SECRET not in text and SECRET not in endpoints
    answers = [r["text"] for r in rows(text) if r["text"].lstrip("'").startswith("=")]
    assert answers and all(a.startswith("'=") for a in answers)
    # Every cell a spreadsheet would read as a formula is disarmed, whatever column it is in.
    for r in rows(text) + rows(endpoints):
        for key, value in r.items():
            if value.startswith(("=", "+", "@")):
                pytest.fail(f"formula in {key}: {value!r}")


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown CSV level"):
        render_csv(fixture(), "probes")
