"""Per-probe damage, calibration by the reference's noise floor, fidelity and verdict.

The formulas and the reasons for them are in docs/scoring.md; the constants live here so the
meta block of every report can name them.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from vvtui.model import Verdict

FORMULA_VERSION = 3

# Parts of a probe's damage, each in [0, 1] or None (not measured).
PARTS = ("errors", "tokens", "checks", "kl", "tools", "json", "leakage", "mmd", "truncation")
# KL (nats, mean over compared positions) giving damage 1 - 1/e. llama.cpp's Llama-3-8B numbers
# map to: bf16 0.0001, q8_0 0.006, q4_K_M 0.12, q2_K 0.83 — spread out, not saturated.
KL_SCALE = 0.25
# Token divergence is read over the opening TOKEN_WINDOW tokens: a first divergence at position
# k costs (W - k) / W. Under a per-token flip rate h its expectation is
# 1 - (1 - h)(1 - (1 - h)^W) / (h W), whatever the answer length (past W tokens). With llama.cpp's
# top-1 disagreement rates: bf16 on other kernels (0.26%) 0.02, q8_0 (2.3%) 0.17,
# q4_K_M (8.1%) 0.47, q2_K (29%) 0.85.
TOKEN_WINDOW = 16
# A first divergence where the reference's own logprob gap between its token and the
# candidate's is below this (nats) is a near-tie: both tokens are answers the claimed model itself
# gives under numerical noise, so the divergence (and the check verdicts that hang on it) says
# nothing about the candidate; its logprobs still count through the KL part. Rationale: a
# faithful 8-bit deployment perturbs logits by σ ≈ 0.1 (KL ≈ 0.006 per position on llama.cpp's
# Llama-3-8B numbers), so the difference of two logits moves by ≈ 0.15; flips inside that band
# are expected of it, while 4-bit damage (σ ≈ 0.3–0.5) flips far outside it.
TIE_MARGIN = 0.3
# An excess of this share of foreign-script letters over the reference counts as full damage.
LEAK_SCALE = 0.10
# Tool calls with the same trigger and names whose arguments differ.
TOOL_ARGS_DIFFER = 0.5

THRESHOLD = 90.0  # faithful when the whole 95% interval is at or above it
MIN_PROBES_FOR_VERDICT = 5
BOOTSTRAP_B = 2000
BOOTSTRAP_SEED = 20240917
CONFIDENCE = 0.95


def is_near_tie(margin: float | None) -> bool:
    return margin is not None and margin < TIE_MARGIN


def token_damage(first_divergence: int | None) -> float:
    """Share of the opening TOKEN_WINDOW tokens that come after the first divergence."""
    if first_divergence is None:
        return 0.0
    return max(0, TOKEN_WINDOW - first_divergence) / TOKEN_WINDOW


def kl_per_position(kl_sum: float, positions: int, longest: int) -> float:
    """KL per position for a probe's damage: the sum over compared positions spread over at
    least the opening TOKEN_WINDOW positions (or the whole answer when shorter). An early
    divergence compares few positions, and the divergent one carries the spike; dividing by
    that handful would make one early flip look like a drifted answer."""
    return kl_sum / max(positions, min(TOKEN_WINDOW, longest), 1)


def kl_damage(kl_mean: float) -> float:
    return 1.0 - math.exp(-max(0.0, kl_mean) / KL_SCALE)


def mmd_damage(effect: float, null_q95: float) -> float:
    """Normalised MMD effect above what label shuffling produces 95% of the time."""
    return min(1.0, max(0.0, effect - null_q95))


def leak_damage(ratio_cand: float, ratio_ref: float) -> float:
    return min(1.0, max(0.0, ratio_cand - ratio_ref) / LEAK_SCALE)


def combine(parts: Mapping[str, float | None]) -> float | None:
    """Probability that at least one symptom shows, reading each measured part as an independent
    chance of revealing a difference: 1 - prod(1 - d_k). A part not measured is left out (never
    counted as 0 damage *or* as full damage); None when nothing was measured."""
    keep = 1.0
    seen = False
    for value in parts.values():
        if value is None:
            continue
        seen = True
        keep *= 1.0 - min(1.0, max(0.0, value))
    return None if not seen else 1.0 - keep


def fidelity(damage: float, floor: float) -> float | None:
    """100 * (1 - excess / headroom): the damage above the reference's own noise floor, as a
    share of the damage still possible above that floor. None when the floor leaves no room."""
    if floor >= 1.0 - 1e-9:
        return None
    excess = max(0.0, damage - floor)
    return max(0.0, 100.0 * (1.0 - excess / (1.0 - floor)))


def verdict(
    ci_low: float | None,
    ci_high: float | None,
    n_probes: int,
    *,
    threshold: float = THRESHOLD,
    min_probes: int = MIN_PROBES_FOR_VERDICT,
) -> Verdict:
    if ci_low is None or ci_high is None or n_probes < min_probes:
        return "inconclusive"
    if ci_low >= threshold:
        return "faithful"
    if ci_high < threshold:
        return "degraded"
    return "inconclusive"


def seed_for(*names: str) -> int:
    """A fixed seed per (purpose, endpoint, ...) so every run and re-score draws the same."""
    return (BOOTSTRAP_SEED ^ zlib.crc32("\x1f".join(names).encode("utf-8"))) & 0xFFFFFFFF


@lru_cache(maxsize=8)
def resample_weights(n: int, b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(b, n) matrix: how often each of n probes is drawn in each bootstrap resample, divided
    by n, so `weights @ x` is every resample's mean at once. Fixed by (n, b, seed): every
    endpoint with n measured probes sees the same resamples, and a re-score draws them again."""
    rng = np.random.default_rng([seed, n])
    idx = rng.integers(0, n, size=(b, n))
    # Counted row by row into the result: one flat (b * n) count array on top of idx and the
    # weights was another 16 MB at the peak of a 1000-probe re-score.
    weights = np.empty((b, n))
    for row in range(b):
        weights[row] = np.bincount(idx[row], minlength=n)
    del idx
    weights /= n
    weights.flags.writeable = False
    return weights


def bootstrap_fidelity(
    damage: np.ndarray, floor: np.ndarray, *, b: int = BOOTSTRAP_B, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float] | None:
    """Percentile 95% interval of the fidelity, resampling probes with replacement; each probe
    carries its own damage and floor (paired), so floor noise is part of the interval."""
    n = len(damage)
    if n == 0:
        return None
    weights = resample_weights(n, b, seed)
    d = weights @ damage
    f = weights @ floor
    headroom = np.maximum(1.0 - f, 1e-9)
    scores = np.clip(100.0 * (1.0 - np.maximum(0.0, d - f) / headroom), 0.0, 100.0)
    alpha = (1.0 - CONFIDENCE) / 2.0
    lo, hi = np.quantile(scores, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def normal_interval(
    n: int, sum_d: float, sum_d2: float, floor: float
) -> tuple[float, float] | None:
    """Cheap live interval: mean damage +- 1.96 standard errors, mapped through `fidelity`
    (floor uncertainty ignored; `finalize()` replaces it with the bootstrap)."""
    if n == 0:
        return None
    mean = sum_d / n
    var = max(0.0, sum_d2 / n - mean * mean)
    se = math.sqrt(var / n) if n > 1 else 0.5
    lo = fidelity(min(1.0, mean + 1.96 * se), floor)
    hi = fidelity(max(0.0, mean - 1.96 * se), floor)
    if lo is None or hi is None:
        return None
    return lo, hi
