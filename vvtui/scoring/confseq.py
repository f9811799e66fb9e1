"""An anytime-valid confidence sequence for fidelity (docs/scoring.md, "Confidence sequence").

The bootstrap interval of the final report is valid for a sample size fixed in advance; looked at
after every probe and acted upon ("stop once it clears 90"), it is not. This one is: with
probability at least 1 − α the true fidelity lies inside the interval *at every probe count at
once*, so a run may stop whenever the interval clears the threshold.

Construction (betting, after Waudby-Smith & Ramdas, "Estimating means of bounded random variables
by betting", JRSS-B 2024). Fidelity φ (a fraction) is at least f exactly when the probes' mean of
``y_f = d − f·d0`` is at most ``1 − f`` (d: a probe's damage, d0: the reference's noise floor on
it; both in [0, 1]; from ``fidelity = (1 − D)/(1 − D0)``). So the floor is folded in probe by
probe, paired with the damage, and every candidate value f on a grid gets two one-sided tests of
the mean of a variable bounded in ``[−f, 1]``: a gambler's capital that grows when the data say
"fidelity above f" and one that grows when they say "below". Bets are predictable (made from the
probes before the current one) by the approximate growth-rate-adaptive rule (aGRAPA), truncated
to a share of the largest bet that cannot bankrupt the gambler. By Ville's inequality a capital
under a true null reaches 2/α with probability at most α/2 ever, so the values never rejected
form the sequence. Rejections are sticky (the running intersection).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Miscoverage over the whole sequence: the interval misses the truth at *any* probe count in at
# most 5% of runs (half on each side).
ALPHA = 0.05
# Share of α spent on the lower bound (the side that certifies "faithful"); the rest on the
# upper bound (the side that calls an endpoint "degraded").
LOW_SHARE = 0.5
# Share of the largest non-bankrupting bet a gambler may stake: Kelly-like bets on nearly
# constant data would otherwise stake everything and one outlier would ruin them.
TRUNCATION = 0.9
# Fidelity grid (fractions): steps of 0.1 fidelity points.
GRID_POINTS = 1001
# Pseudo-observations the running mean and variance start from (at the tested value, variance
# 1/4): the first bet is nothing and early bets stay modest.
PRIOR_WEIGHT = 1.0
PRIOR_VARIANCE = 0.25


def default_grid() -> np.ndarray:
    return np.linspace(0.0, 1.0, GRID_POINTS)


@dataclass(slots=True)
class Bounds:
    """The sequence's interval now, as fidelity fractions in [0, 1]."""

    low: float
    high: float
    n: int


class FidelitySequence:
    """A batch of independent confidence sequences, fed one probe per batch row at a time.

    Row b's state after t probes is its interval; ``update`` is O(batch × grid). A batch of one is
    what the scorer uses; tests and benchmarks simulate thousands of runs at once.
    """

    def __init__(
        self,
        batch: int = 1,
        *,
        grid: np.ndarray | None = None,
        alpha: float = ALPHA,
        truncation: float = TRUNCATION,
        low_share: float = LOW_SHARE,
    ) -> None:
        self.grid = default_grid() if grid is None else np.asarray(grid, dtype=float)
        self.alpha = alpha
        self.truncation = truncation
        self.low_share = low_share
        # Ville: a capital under a true null reaches 1/a with probability at most a.
        self.barrier_low = math.log(1.0 / (alpha * low_share))
        self.barrier_high = math.log(1.0 / (alpha * (1.0 - low_share)))
        shape = (batch, len(self.grid))
        self.n = 0
        # Sums of d, d0 and their squares and product: the running mean and variance of y_f for
        # every f at once (y_f is linear in f).
        self._s = np.zeros((batch, 5))
        self._log_up = np.zeros(shape)
        self._log_down = np.zeros(shape)
        # Sticky rejections: "fidelity < f" proven (up) and "fidelity > f" proven (down).
        self.below = np.zeros(shape, dtype=bool)
        self.above = np.zeros(shape, dtype=bool)

    def copy(self) -> FidelitySequence:
        other = FidelitySequence.__new__(FidelitySequence)
        other.grid, other.alpha, other.truncation = self.grid, self.alpha, self.truncation
        other.low_share, other.n = self.low_share, self.n
        other.barrier_low, other.barrier_high = self.barrier_low, self.barrier_high
        other._s = self._s.copy()
        other._log_up, other._log_down = self._log_up.copy(), self._log_down.copy()
        other.below, other.above = self.below.copy(), self.above.copy()
        return other

    def _bets(self) -> tuple[np.ndarray, np.ndarray]:
        """Predictable stakes for the next probe, per row and grid value: (up, down)."""
        f = self.grid[None, :]
        c = 1.0 - f
        s_d, s_f, s_dd, s_ff, s_df = (self._s[:, k : k + 1] for k in range(5))
        w = PRIOR_WEIGHT
        t = self.n
        sum_y = s_d - f * s_f
        sum_yy = s_dd - 2.0 * f * s_df + f * f * s_ff
        mean = (w * c + sum_y) / (w + t)
        # Spread around the running mean, plus the prior's.
        spread = np.maximum(0.0, sum_yy - 2.0 * mean * sum_y + t * mean * mean)
        var = (w * PRIOR_VARIANCE + spread) / (w + t)
        edge = mean - c
        g = edge / (var + edge * edge)
        # y_f lies in [−f, 1]: betting "up" loses at most (c + f) = 1 per unit stake, betting
        # "down" at most (1 − c) = f.
        up = np.clip(g, 0.0, self.truncation)
        down = np.clip(-g, 0.0, self.truncation / np.maximum(f, 1e-3))
        return up, down

    def update(self, damage: np.ndarray | float, floor: np.ndarray | float) -> None:
        """Feed one probe to every row: its damage and the reference's floor on it."""
        d = np.broadcast_to(np.asarray(damage, dtype=float), (self._s.shape[0],))
        d0 = np.broadcast_to(np.asarray(floor, dtype=float), (self._s.shape[0],))
        d = np.clip(d, 0.0, 1.0)
        d0 = np.clip(d0, 0.0, 1.0)
        up, down = self._bets()
        f = self.grid[None, :]
        c = 1.0 - f
        y = d[:, None] - f * d0[:, None]
        self._log_up += np.log1p(up * (y - c))
        self._log_down += np.log1p(down * (c - y))
        self.below |= self._log_up >= self.barrier_high
        self.above |= self._log_down >= self.barrier_low
        self._s += np.stack([d, d0, d * d, d0 * d0, d * d0], axis=1)
        self.n += 1

    def bounds_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) per row. low: the largest grid value with every value up to it proven too
        low (0 when none is); high: the smallest with every value from it on proven too high (1
        when none is). Requiring the whole run of rejections keeps the interval one piece and
        valid on the grid: the truth is missed only if the grid value next to it was rejected."""
        g = len(self.grid)
        run_low = np.cumprod(self.above, axis=1, dtype=np.int8).astype(bool)
        k_low = run_low.sum(axis=1)  # leading rejected values
        low = np.where(k_low > 0, self.grid[np.maximum(k_low - 1, 0)], 0.0)
        run_high = np.cumprod(self.below[:, ::-1], axis=1, dtype=np.int8).astype(bool)
        k_high = run_high.sum(axis=1)  # trailing rejected values
        high = np.where(k_high > 0, self.grid[np.minimum(g - k_high, g - 1)], 1.0)
        # Empty after an unlucky run (probability ≤ α): keep a point rather than an inverted pair.
        high = np.maximum(high, low)
        return low, high

    def bounds(self) -> Bounds:
        low, high = self.bounds_arrays()
        return Bounds(float(low[0]), float(high[0]), self.n)


def sequence_bounds(damage: list[float], floor: list[float]) -> list[Bounds]:
    """The interval after each probe of one endpoint's sequence (probes in the order sent)."""
    cs = FidelitySequence()
    out = []
    for d, d0 in zip(damage, floor, strict=True):
        cs.update(d, d0)
        out.append(cs.bounds())
    return out


def can_still_clear(
    cs: FidelitySequence,
    threshold: float,
    remaining: int,
    continuation: tuple[list[float], list[float]] | None = None,
) -> bool:
    """Whether `remaining` more probes could move the interval off `threshold` (a fraction),
    played forward at the threshold alone. Without `continuation`, the most favourable ones are
    tried (every further probe undamaged, or every one fully damaged): False then means no
    outcome in this budget can decide the endpoint. With `continuation` (damage, floor lists),
    the further probes repeat those values in turn: "if the rest looks like what came so far"."""
    if remaining <= 0:
        return False
    k = int(np.searchsorted(cs.grid, threshold))
    k = min(k, len(cs.grid) - 1)
    if continuation is not None and continuation[0]:
        paths = [continuation]
    else:
        paths = [([0.0], [0.0]), ([1.0], [0.0])]
    for damage, floor in paths:
        probe = FidelitySequence(
            grid=cs.grid[k : k + 1],
            alpha=cs.alpha,
            truncation=cs.truncation,
            low_share=cs.low_share,
        )
        probe.n = cs.n
        probe._s = cs._s[:1].copy()
        probe._log_up = cs._log_up[:1, k : k + 1].copy()
        probe._log_down = cs._log_down[:1, k : k + 1].copy()
        probe.below = cs.below[:1, k : k + 1].copy()
        probe.above = cs.above[:1, k : k + 1].copy()
        for i in range(remaining):
            probe.update(damage[i % len(damage)], floor[i % len(floor)])
            if probe.below[0, 0] or probe.above[0, 0]:
                return True
    return False
