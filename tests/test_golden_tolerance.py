"""The golden comparison (tests/golden.py, vvtui.scoring.tolerance) is as loose as another CPU
needs and no looser: last-bit changes pass, a 1e-6 change fails, every non-float is exact. And
what the goldens show rounded (Markdown, the TUI's numbers) does not move when the scores under
it move by the 1e-9 the comparison allows, so a rounded golden cannot flip on another machine."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from tests.golden import (
    NUMBER,
    assert_agrees,
    check_json_golden,
    check_text_golden,
    text_differences,
)
from tests.report_helpers import DATA, fixture
from tests.tuitools import fixture_snapshot
from vvtui.reports.markdown import render_markdown
from vvtui.scoring import score_snapshot
from vvtui.scoring.tolerance import REL_TOL, agree, differences
from vvtui.tui import format as fmt

GOLDEN_REPORT = Path(__file__).parent / "data" / "scoring" / "golden_report.json"


def golden_report() -> dict:
    return json.loads(GOLDEN_REPORT.read_text(encoding="utf-8"))


def map_floats(data: Any, change) -> Any:
    """A copy of `data` with every float x replaced by change(x, index) (index counts floats)."""
    counter = [0]

    def walk(value: Any) -> Any:
        if isinstance(value, float):
            counter[0] += 1
            return change(value, counter[0])
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(data)


def ulps(x: float, n: int) -> float:
    """`x` moved by n units in the last place (down when n < 0)."""
    for _ in range(abs(n)):
        x = math.nextafter(x, math.inf if n > 0 else -math.inf)
    return x


def last_bits(x: float, i: int) -> float:
    """What another CPU's kernels do to a float: one to three ulps, either way; a 0 that is zero
    up to rounding comes out as a few 1e-16."""
    if x == 0.0:
        return 4.440892098500626e-16 if i % 5 == 0 else 0.0
    return ulps(x, (i % 3 + 1) * (1 if i % 2 else -1))


# ---- structured: the score report


def test_last_bit_changes_to_every_float_of_the_golden_report_pass(tmp_path):
    report = golden_report()
    moved = map_floats(report, last_bits)
    assert moved != report  # the change is real...
    assert_agrees(moved, report)  # ...and within the promise
    path = tmp_path / "golden_report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    check_json_golden(path, moved)


def test_a_1e6_change_to_one_float_fails_naming_its_path(tmp_path):
    report = golden_report()
    moved = copy.deepcopy(report)
    moved["endpoints"]["bf16"]["ci_high"] *= 1 + 1e-6
    path = tmp_path / "golden_report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    with pytest.raises(AssertionError) as info:
        check_json_golden(path, moved)
    message = str(info.value)
    assert "/endpoints/bf16/ci_high:" in message and "relative difference 1.0e-06" in message
    assert "VVTUI_UPDATE_GOLDEN=1" in message


def test_the_failure_lists_the_first_few_paths_only():
    report = golden_report()
    moved = map_floats(report, lambda x, i: x * (1 + 1e-6) + 1e-6)
    diffs = differences(moved, report, limit=5)
    assert len(diffs) == 5
    with pytest.raises(AssertionError, match=r"first 5 differences"):
        assert_agrees(moved, report)


def test_the_tolerance_is_1e9_relative_with_a_floor_at_zero():
    assert agree(1.0 + 0.5 * REL_TOL, 1.0) and not agree(1.0 + 2 * REL_TOL, 1.0)
    assert agree(95.68504396853076, 95.68504396853075)
    assert agree(4.440892098500626e-16, 0.0) and agree(-2e-16, 0.0)
    assert not agree(5.4e-7 * (1 + 1e-5), 5.4e-7)  # small but meaningful values stay relative


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("endpoints", "int4", "checks_passed"), 762),
        (("endpoints", "int4", "verdict"), "faithful"),
        (("endpoints", "int2", "errors"), 2.0),  # the same number, as a float
        (("endpoints", "int4", "tool_precision"), None),
        (("meta", "extra"), 1),
        (("meta", "tokenizers"), ["provider"]),
    ],
    ids=["int", "string", "type", "none", "key", "length"],
)
def test_every_non_float_is_compared_exactly(where, value):
    report = golden_report()
    moved = copy.deepcopy(report)
    parent = moved
    for key in where[:-1]:
        parent = parent[key]
    assert parent.get(where[-1]) != value or type(parent.get(where[-1])) is not type(value)
    parent[where[-1]] = value
    assert not agree(moved, report)


# ---- text: CSV and Markdown goldens


def move_numbers(text: str, change) -> str:
    """`text` with every computed float (a decimal written with 12 or more characters, as repr
    writes them; not `127.0` of an address, nor a price) replaced by change(value, index)."""
    counter = [0]

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if not any(c in token for c in ".eE") or len(token.lstrip("-")) < 12:
            return token
        counter[0] += 1
        return repr(change(float(token), counter[0]))

    return NUMBER.sub(replace, text)


@pytest.mark.parametrize("name", ["quick.results.csv", "quick.endpoints.csv"])
def test_csv_goldens_pass_last_bit_changes_and_fail_a_1e6_change(name, tmp_path):
    golden = DATA / name
    text = golden.read_text(encoding="utf-8")
    moved = move_numbers(text, last_bits)
    assert moved != text
    check_text_golden(golden, moved)
    bumped = move_numbers(text, lambda x, i: x * (1 + 1e-6) if i == 7 else x)
    diffs = text_differences(bumped, text)
    assert len(diffs) == 1 and diffs[0].startswith("line ")
    with pytest.raises(AssertionError, match=name.replace(".", r"\.")):
        check_text_golden(golden, bumped)


def test_text_outside_numbers_and_number_formatting_are_exact():
    assert not text_differences("fidelity 72.5 of 11", "fidelity 72.5 of 11")
    assert text_differences("fidelity 72.5 of 12", "fidelity 72.5 of 11")  # integers exact
    assert text_differences("fidelity 72.50 of 11", "fidelity 72.5 of 11")  # same float, new form
    assert text_differences("Fidelity 72.5 of 11", "fidelity 72.5 of 11")
    assert text_differences("fidelity 72.4 of 11", "fidelity 72.5 of 11")
    assert text_differences("a\nb", "a\nb\nc")
    assert not text_differences("kl 0.08180995588155175", "kl 0.08180995588155178")


# ---- what is shown rounded does not move within the tolerance


def within_tolerance(x: float, i: int) -> float:
    """The most the comparison allows: a relative 1e-9, up or down. Whole numbers (0, 100, a
    clipped interval's end) are left alone: they come out of exact arithmetic or clipping, the
    same on every machine."""
    if x == round(x):
        return x
    return x * (1 + (0.9 if i % 2 else -0.9) * REL_TOL)


def test_markdown_golden_does_not_move_within_the_tolerance():
    snap = fixture()
    snap.scores = map_floats(snap.scores, within_tolerance)
    check_text_golden(DATA / "quick.md", render_markdown(snap))
    assert render_markdown(snap) == render_markdown(fixture())


def shown(score: Any) -> list[str]:
    """Every number of an EndpointScore through every formatter the TUI has."""
    out = [fmt.fidelity(score)]
    for field in dataclasses.fields(score):
        value = getattr(score, field.name)
        if isinstance(value, float):
            out += [fmt.percent(value), fmt.ratio(value), fmt.kl(value)]
            out += [fmt.millis(value), fmt.rate(value), fmt.cost(value)]
    return out


def test_tui_numbers_of_the_snapshot_frames_do_not_move_within_the_tolerance():
    full = fixture_snapshot()
    subset = ["reference", "fp8", "int4", "int2"]
    four = dataclasses.replace(
        full,
        endpoints=[e for e in full.endpoints if e.name in subset],
        results=[r for r in full.results if r.endpoint in subset],
    )
    for snap in (full, four):
        report = score_snapshot(snap)
        for score in report.endpoints.values():
            moved = dataclasses.replace(
                score,
                **{
                    f.name: within_tolerance(getattr(score, f.name), i)
                    for i, f in enumerate(dataclasses.fields(score))
                    if isinstance(getattr(score, f.name), float)
                },
            )
            assert shown(moved) == shown(score), score.name
