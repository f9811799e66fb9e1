"""How numbers read in every front end (vvtui.reports.fmt, which the TUI uses too)."""

from __future__ import annotations

import pytest

from vvtui.reports.fmt import interval


@pytest.mark.parametrize(
    ("lo", "hi", "shown"),
    [
        (97.53, 99.81, "97.5–99.9"),  # outwards: the interval shown holds the one computed
        (89.96, 99.0, "89.9–99.0"),  # never 90.0 beside a verdict saying "below 90"
        (90.0, 99.80000000001, "90.0–99.8"),  # float noise does not widen a bound
        (99.61, 100.0, "99.6–100"),
        (100.0, 100.0, "100–100"),
        (0.0, 3.04, "0.0–3.1"),
        (None, 50.0, "–"),
    ],
)
def test_interval_is_rounded_outwards_to_one_decimal(lo, hi, shown):
    assert interval(lo, hi) == shown


def test_the_tui_shows_the_interval_the_cli_shows():
    from vvtui.reports.fmt import fidelity_ci
    from vvtui.scoring import EndpointScore
    from vvtui.tui.format import fidelity

    score = EndpointScore(name="int4", fidelity=98.94, ci_low=97.53, ci_high=99.81)
    assert fidelity(score) == f"98.9 [{fidelity_ci({'ci_low': 97.53, 'ci_high': 99.81})}]"
    assert fidelity(score) == "98.9 [97.5–99.9]"


def test_a_starred_cost_is_explained_under_every_terminal_table():
    """Headless runs and `vvtui score` print the same table: a starred cost is explained in both
    (the headless table used to print the star alone)."""
    import dataclasses

    from tests.report_helpers import fixture
    from vvtui.reports.table import endpoint_table

    snap = fixture()
    lines = endpoint_table(snap).splitlines()
    starred = [line for line in lines if line.split()[0] == "slow"]
    assert starred and "$0.0000861*" in starred[0]
    assert lines[-1] == "* cost from estimated token counts (the provider sent no usage)"
    scores = {
        **snap.scores,
        "endpoints": {
            name: {**s, "estimated_usage": False} for name, s in snap.scores["endpoints"].items()
        },
    }
    plain = endpoint_table(dataclasses.replace(snap, scores=scores))
    assert "*" not in plain
