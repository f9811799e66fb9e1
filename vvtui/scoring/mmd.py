"""Two-sample test for sampled probes: MMD with a Hamming string kernel, permutation p-value.

After *Model Equality Testing* (Gao et al. 2024). A sample is (prompt, completion). The kernel
between two completions of the same prompt is the share of equal code points position by
position over L characters (both padded with a sentinel to L = the longest completion of that
prompt, capped at MAX_CHARS), and zero across different prompts. The statistic is the unbiased
MMD^2 (diagonal terms excluded) per prompt, averaged over prompts so that each prompt weighs the
same whatever its sample counts. Under the null (both endpoints sample the same distribution)
the reference/candidate labels are exchangeable within each prompt, so the permutation
distribution re-draws the labels inside every prompt; p = (1 + #{T_b >= T_obs}) / (1 + B).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_CHARS = 1000
PERMUTATIONS = 1000


@dataclass(slots=True)
class MMDResult:
    statistic: float  # mean over prompts of the unbiased MMD^2
    p_value: float
    null_q95: float  # 95th percentile of the statistic under label permutation
    # Scale-free effect: sum of MMD^2 over sum of the within-endpoint similarities
    # (k_xx + k_yy); 0 for one distribution, 1 when no cross pair shares a character position.
    effect: float
    effect_q95: float
    prompts: int
    permutations: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "null_q95": self.null_q95,
            "effect": self.effect,
            "effect_q95": self.effect_q95,
            "prompts": self.prompts,
            "permutations": self.permutations,
        }


def hamming_kernel(texts: Sequence[str], max_chars: int = MAX_CHARS) -> np.ndarray:
    """Gram matrix k(x, y) = (1/L) * #{i < L : x_i == y_i} over code points, padded to L."""
    s = len(texts)
    length = max(1, min(max_chars, max((len(t) for t in texts), default=1)))
    codes = np.full((s, length), -1, dtype=np.int32)
    for i, text in enumerate(texts):
        cut = text[:length]
        if cut:
            codes[i, : len(cut)] = np.frombuffer(cut.encode("utf-32-le"), dtype=np.uint32)
    if s * s * length <= 4_000_000:
        equal = (codes[:, None, :] == codes[None, :, :]).sum(axis=2)
    else:  # row by row keeps memory bounded for many long samples
        equal = np.stack([(codes == codes[i]).sum(axis=1) for i in range(s)])
    return equal.astype(np.float64) / length


def _statistic(
    k0: np.ndarray, labels: np.ndarray, nx: int, ny: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unbiased MMD^2 and the within-side similarity k_xx + k_yy for each row of `labels`
    (1 = reference sample). `k0` has a zero diagonal, so a'K0a sums over distinct pairs only."""
    ak = labels @ k0
    sxx = np.einsum("bs,bs->b", ak, labels)
    row = ak.sum(axis=1)
    total = k0.sum()
    syy = total - 2.0 * row + sxx
    sxy = row - sxx
    within = sxx / (nx * (nx - 1)) + syy / (ny * (ny - 1))
    return within - 2.0 * sxy / (nx * ny), within


def _q95(values: np.ndarray) -> float:
    k = int(0.95 * (len(values) - 1))
    return float(np.partition(values, k)[k])


def mmd_test(
    groups: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> MMDResult | None:
    """Test whether reference and candidate completions come from the same distribution.

    `groups` holds, per prompt, (reference completions, candidate completions). Prompts with fewer
    than two completions on either side are skipped; None when none is usable.
    """
    usable = [(list(x), list(y)) for x, y in groups if len(x) >= 2 and len(y) >= 2]
    if not usable:
        return None
    rng = np.random.default_rng(seed)
    observed = 0.0
    observed_within = 0.0
    null = np.zeros(permutations)
    null_within = np.zeros(permutations)
    for x, y in usable:
        nx, ny = len(x), len(y)
        size = nx + ny
        k0 = hamming_kernel(x + y)
        np.fill_diagonal(k0, 0.0)
        labels = np.zeros((1, size))
        labels[0, :nx] = 1.0
        stat, within = _statistic(k0, labels, nx, ny)
        observed += float(stat[0])
        observed_within += float(within[0])
        if permutations:
            drawn = (rng.random((permutations, size)).argsort(axis=1) < nx).astype(np.float64)
            stat, within = _statistic(k0, drawn, nx, ny)
            null += stat
            null_within += within
    prompts = len(usable)
    # Tolerance: the permutation equal to the observed labelling must count as ">=".
    exceed = int(np.count_nonzero(null >= observed - 1e-12))
    p_value = (1 + exceed) / (1 + permutations)
    effect = observed / observed_within if observed_within > 0 else 0.0
    if permutations:
        null_effect = np.divide(null, null_within, out=np.zeros_like(null), where=null_within > 0)
        q95, effect_q95 = _q95(null) / prompts, _q95(null_effect)
    else:
        q95 = effect_q95 = 0.0
    return MMDResult(observed / prompts, p_value, q95, effect, effect_q95, prompts, permutations)
