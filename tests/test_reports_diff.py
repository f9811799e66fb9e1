import copy
import json

import pytest

from tests.report_helpers import FIXTURE, fixture
from vvtui.cli import main
from vvtui.model import Price
from vvtui.reports.diff import Limits, comparable, diff_snapshots, format_drift
from vvtui.storage import save_snapshot


def pair(tmp_path, change=None):
    old = fixture()
    new = fixture()
    if change is not None:
        change(new)
    return str(FIXTURE), str(save_snapshot(new, tmp_path / "new.json")), old, new


def run(capsys, *argv):
    code = main(["diff", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_identical_snapshots_cross_nothing(tmp_path, capsys):
    old, new, *_ = pair(tmp_path)
    code, out, _ = run(
        capsys,
        old,
        new,
        "--max-fidelity-drop",
        "0",
        "--max-ttft-increase",
        "0",
        "--max-price-increase",
        "0",
    )
    assert code == 0
    assert "no limit crossed" in out and "no probe changed mark" in out


def drop_int4(snap):
    snap.scores["endpoints"]["int4"]["fidelity"] -= 10.0


def test_fidelity_drop_over_the_limit_exits_1_naming_it(tmp_path, capsys):
    old, new, *_ = pair(tmp_path, drop_int4)
    code, out, _ = run(capsys, old, new, "--max-fidelity-drop", "5")
    assert code == 1
    crossed = [line for line in out.splitlines() if line.startswith("limit crossed:")]
    assert len(crossed) == 1 and "int4: fidelity dropped 10.0 points" in crossed[0]
    assert run(capsys, old, new, "--max-fidelity-drop", "10.5")[0] == 0
    assert run(capsys, old, new)[0] == 0  # no limits, nothing to cross


def test_ttft_increase_in_percent(tmp_path, capsys):
    def slower(snap):
        snap.scores["endpoints"]["noisy-kernel"]["ttft_p50"] *= 1.6

    old, new, *_ = pair(tmp_path, slower)
    code, out, _ = run(capsys, old, new, "--max-ttft-increase", "50")
    assert code == 1 and "noisy-kernel: TTFT p50 rose 60%" in out
    assert run(capsys, old, new, "--max-ttft-increase", "70")[0] == 0


def test_price_increase_is_the_larger_of_input_and_output(tmp_path, capsys):
    def pricier(snap):
        e = next(e for e in snap.endpoints if e.name == "int4")
        e.price = Price(e.price.input, e.price.output * 1.25)

    old, new, *_ = pair(tmp_path, pricier)
    code, out, _ = run(capsys, old, new, "--max-price-increase", "10")
    assert code == 1 and "int4: list price rose 25%" in out
    assert run(capsys, old, new, "--max-price-increase", "30")[0] == 0


def test_a_value_measured_before_but_not_now_crosses(tmp_path, capsys):
    def stopped(snap):
        s = snap.scores["endpoints"]["int4"]
        s["ttft_p50"] = None
        s["fidelity"] = None

    old, new, *_ = pair(tmp_path, stopped)
    code, out, _ = run(capsys, old, new, "--max-ttft-increase", "50", "--max-fidelity-drop", "5")
    assert code == 1
    assert "int4: TTFT p50" in out and "no successful request" in out
    assert "int4: fidelity 72.5 before, not measurable now" in out
    # Not measured before either (slow errored in both): no baseline, nothing crossed.
    crossed = [line for line in out.splitlines() if "limit crossed" in line]
    assert not any("slow:" in line for line in crossed)


def test_changed_marks_are_listed_per_endpoint():
    old, new = fixture(), fixture()
    new.scores = copy.deepcopy(new.scores)
    new.scores["probes"]["quant-arith-chain"]["int4"]["mark"] = "fail"
    report = diff_snapshots(old, new, Limits())
    int4 = next(e for e in report.endpoints if e.name == "int4")
    assert [(m.probe_id, m.old, m.new, m.worse) for m in int4.marks] == [
        ("quant-arith-chain", "pass", "fail", True)
    ]
    text = format_drift(report).splitlines()
    at = text.index("  int4 (1 probe):")
    assert text[at + 1] == "    pass → fail (1): quant-arith-chain"


def test_many_changed_marks_are_grouped_and_wrapped():
    old, new = fixture(), fixture()
    new.scores = copy.deepcopy(new.scores)
    ids = list(new.scores["probes"])
    for pid in ids:
        new.scores["probes"][pid]["int4"]["mark"] = "error"
    report = diff_snapshots(old, new, Limits())
    text = format_drift(report)
    assert f"({len(ids)} probes compared)" in text.splitlines()[0]
    lines = text.splitlines()
    block = lines[lines.index(f"  int4 ({len(ids)} probes):") + 1 :]
    block = block[: next((i for i, b in enumerate(block) if not b.startswith("    ")), None)]
    assert all(len(line) <= 100 for line in block) and len(block) > 1
    listed = " ".join(block).replace(",", " ").split()
    assert all(pid in listed for pid in ids)
    assert sum(" → error (" in line for line in block) == len(
        {old.scores["probes"][pid]["int4"]["mark"] for pid in ids} - {"error"}
    )


def test_one_probe_is_not_probes():
    old, new = fixture(), fixture()
    keep = new.probes[0].id
    for snap in (old, new):
        snap.probes = [p for p in snap.probes if p.id == keep]
        snap.results = [r for r in snap.results if r.probe_id == keep]
        snap.scores = {}
    from vvtui.reports.diff import comparable

    old, new, _ = comparable(old, new)
    report = diff_snapshots(old, new, Limits())
    assert "(1 probe compared)" in format_drift(report).splitlines()[0]


def test_added_and_removed_endpoints_are_reported_not_compared(tmp_path, capsys):
    def reshuffle(snap):
        snap.endpoints = [e for e in snap.endpoints if e.name != "int4"]
        snap.results = [r for r in snap.results if r.endpoint != "int4"]
        extra = copy.deepcopy(next(e for e in snap.endpoints if e.name == "noisy-kernel"))
        extra.name = "newcomer"
        snap.endpoints.append(extra)
        snap.scores["endpoints"]["newcomer"] = dict(
            snap.scores["endpoints"]["noisy-kernel"], name="newcomer"
        )
        del snap.scores["endpoints"]["int4"]

    old, new, *_ = pair(tmp_path, reshuffle)
    code, out, _ = run(capsys, old, new, "--max-fidelity-drop", "0")
    assert code == 0
    assert "int4" in out and "(removed)" in out and "(added)" in out
    assert "only in" in out


def test_different_probe_sets_compare_the_common_ones(tmp_path, capsys):
    def fewer(snap):
        snap.probes = [p for p in snap.probes if p.id != "sampled-fruit"]
        snap.results = [r for r in snap.results if r.probe_id != "sampled-fruit"]

    old, new, old_snap, new_snap = pair(tmp_path, fewer)
    code, out, _ = run(capsys, old, new, "--max-fidelity-drop", "50", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["common_probes"] == 10
    assert data["old_only_probes"] == ["sampled-fruit"] and data["new_only_probes"] == []
    assert any("compared on the 10 probes both hold" in n for n in data["notes"])
    # Re-scored on the common probes, the identical runs now match exactly.
    for e in data["endpoints"]:
        if e["fidelity"]["old"] is not None:
            assert e["fidelity"]["delta"] == pytest.approx(0.0)
    a, b, notes = comparable(old_snap, new_snap)
    assert {p.id for p in a.probes} == {p.id for p in b.probes} and notes


def test_json_output_lists_crossings(tmp_path, capsys):
    old, new, *_ = pair(tmp_path, drop_int4)
    code, out, err = run(capsys, old, new, "--max-fidelity-drop", "5", "--json")
    assert code == 1
    data = json.loads(out)
    assert [c["limit"] for c in data["crossings"]] == ["max-fidelity-drop"]
    assert data["limits"]["max_fidelity_drop"] == 5
    assert "limit crossed: int4" in err


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("[1, 2")
    assert run(capsys, str(FIXTURE), str(tmp_path / "missing.json"))[0] == 2
    code, _, err = run(capsys, str(tmp_path / "bad.json"), str(FIXTURE))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not valid JSON" in err

    def renamed(snap):
        for e in snap.endpoints:
            e.name = "x-" + e.name

    old, new, *_ = pair(tmp_path, renamed)
    code, _, err = run(capsys, old, new)
    assert code == 2 and "no endpoint name in common" in err
    code, _, err = run(capsys, old, old, "--max-fidelity-drop", "-1")
    assert code == 2 and "0 or more" in err
