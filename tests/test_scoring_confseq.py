"""The anytime-valid confidence sequence: coverage at every probe count, by simulation, and the
decisions `--until-decided` takes from it."""

from __future__ import annotations

import numpy as np
import pytest

from vvtui.model import Probe
from vvtui.scoring import confseq
from vvtui.scoring.decide import FUTILITY_AFTER, StoppingRule, decide, probe_order

RUNS = 2000
PROBES = 100
# A coarser grid than the default (1 fidelity point) keeps 2000 runs fast; the bound logic is
# the same.
GRID = np.linspace(0.0, 1.0, 101)


def _scenario(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """(damage, floor) of shape (RUNS, PROBES), i.i.d. per probe, and the true fidelity."""
    shape = (RUNS, PROBES)
    if name == "faithful":  # mostly untouched, a rare large divergence, a small noise floor
        hit = rng.random(shape) < 0.04
        d = hit * rng.uniform(0.5, 1.0, shape) + 0.01 * rng.random(shape)
        d0 = 0.02 * rng.random(shape)
        ed, ed0 = 0.04 * 0.75 + 0.005, 0.01
    elif name == "threshold":  # right at the line: the hardest case for coverage
        hit = rng.random(shape) < 0.2
        d = hit * rng.uniform(0.0, 1.0, shape)
        d0 = 0.05 * hit * rng.random(shape)
        ed, ed0 = 0.1, 0.005
    elif name == "degraded":  # paired floor: the floor is larger where the damage is
        d = rng.beta(2.0, 3.0, shape)
        d0 = 0.1 * d * rng.random(shape)
        ed, ed0 = 0.4, 0.1 * 0.4 * 0.5
    else:  # all-or-nothing answers, no floor
        d = (rng.random(shape) < 0.3).astype(float)
        d0 = np.zeros(shape)
        ed, ed0 = 0.3, 0.0
    return d, d0, (1.0 - ed) / (1.0 - ed0)


@pytest.mark.parametrize("scenario", ["faithful", "threshold", "degraded", "bernoulli"])
def test_coverage_holds_at_every_probe_count(scenario: str) -> None:
    rng = np.random.default_rng(["faithful", "threshold", "degraded", "bernoulli"].index(scenario))
    d, d0, truth = _scenario(scenario, rng)
    cs = confseq.FidelitySequence(RUNS, grid=GRID)
    missed = np.zeros(RUNS, dtype=bool)
    widths = {}
    for t in range(PROBES):
        cs.update(d[:, t], d0[:, t])
        # Rejections are sticky, so the low bound never falls and the high one never rises: a
        # miss at any count is still a miss at the end. Checked every 10 probes anyway.
        if t % 10 == 9:
            low, high = cs.bounds_arrays()
            missed |= (truth < low - 1e-12) | (truth > high + 1e-12)
            widths[t + 1] = float(np.mean(high - low))
    coverage = 1.0 - missed.mean()
    assert coverage >= 0.95, f"{scenario}: the sequence missed the truth in {missed.mean():.1%}"
    # Not vacuous: the interval narrows as probes come in.
    assert widths[PROBES] < 0.5 * widths[10]


def test_undamaged_answers_are_certified_faithful_and_wrong_ones_degraded() -> None:
    rule = StoppingRule()
    good = decide([0.0] * 80, [0.0] * 80, rule)
    assert good.verdict == "faithful" and good.decided_after is not None
    # An anytime 97.5% bound at 90 needs at least log(40)/log(1/0.9) = 35 clean probes.
    assert 35 <= good.decided_after <= 60
    bad = decide([1.0] * 20, [0.0] * 20, rule)
    assert bad.verdict == "degraded" and bad.decided_after is not None
    assert bad.decided_after <= 10
    assert bad.high is not None and bad.high < 50


def test_the_floor_is_paired_with_the_damage() -> None:
    """Damage equal to the reference's own floor is no evidence against the candidate."""
    rule = StoppingRule()
    noisy = decide([0.3] * 80, [0.3] * 80, rule)
    assert noisy.verdict == "faithful"
    assert noisy.low is not None and noisy.low >= 90.0


def test_futility_gives_up_only_on_what_the_budget_cannot_decide() -> None:
    rule = StoppingRule()
    rng = np.random.default_rng(3)
    # Right at the line: one probe in ten fully damaged is fidelity 90.
    borderline = list((rng.random(60) < 0.1).astype(float))
    early = borderline[: FUTILITY_AFTER - 1]
    assert decide(early, [0.0] * len(early), rule, remaining=0).futile
    # Before FUTILITY_AFTER probes only an impossible verdict is given up on.
    assert not decide(early, [0.0] * len(early), rule, remaining=200).futile
    # After it, a run that goes on looking like this will not leave the line.
    late = borderline[: FUTILITY_AFTER + 5]
    assert decide(late, [0.0] * len(late), rule, remaining=40).futile
    # A clean start is never futile while probes remain.
    clean = [0.0] * (FUTILITY_AFTER + 5)
    assert not decide(clean, clean, rule, remaining=40).futile


def test_probe_order_is_seeded_and_puts_cheap_probes_first_on_the_whole() -> None:
    probes = [Probe(id=f"c{i}") for i in range(60)] + [
        Probe(id=f"s{i}", kind="sampled", n_samples=10, temperature=1.0) for i in range(6)
    ]
    a = probe_order(probes, 7)
    assert a == probe_order(probes, 7) and a != probe_order(probes, 8)
    assert sorted(a) == sorted(p.id for p in probes)
    first_half = a[: len(a) // 2]
    assert sum(pid.startswith("s") for pid in first_half) <= 2
    uniform = probe_order(probes, 7, cost_weighted=False)
    assert sorted(uniform) == sorted(a)
