"""Timings of the scoring core (printed, never asserted: the machine is shared and noisy).

python -m benchmarks [--quick]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np


def _best_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return min(times)


def _token_lists(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """A 10k-token answer, a copy differing in a few places, and an unrelated answer, with a
    Zipf-like vocabulary (common tokens repeat, as in text)."""
    from vvtui.scoring.synthetic import VOCAB

    rng = np.random.default_rng(seed)

    def draw(k: int) -> list[str]:
        ranks = np.minimum(rng.zipf(1.2, size=k), len(VOCAB)) - 1
        return [VOCAB[int(r)] for r in ranks]

    ref = draw(n)
    few = list(ref)
    for pos in rng.choice(n, 6, replace=False):
        few[int(pos)] = " zz-replaced"
    few[n // 3 : n // 3] = [" inserted", " words"]
    del few[2 * n // 3 : 2 * n // 3 + 4]
    return ref, few, draw(n)


def run(quick: bool = False) -> dict[str, float]:
    from vvtui.scoring import Scorer, align, score_snapshot
    from vvtui.scoring.mmd import mmd_test
    from vvtui.scoring.synthetic import fast_ladder_snapshot

    out: dict[str, float] = {}
    repeat = 3 if quick else 7

    ref, few, other = _token_lists(10_000, seed=1)
    out["align_10k_few_diffs_ms"] = _best_ms(lambda: align(ref, few), repeat)
    out["align_10k_all_different_ms"] = _best_ms(lambda: align(ref, other), max(2, repeat // 2))

    ladder = {
        "ref": 0.0,
        "bf16": 0.003,
        "fp8": 0.02,
        "int8": 0.04,
        "int6": 0.06,
        "int4": 0.08,
        "int3": 0.15,
        "int2": 0.3,
    }
    n_probes = 200 if quick else 1000
    snapshot = fast_ladder_snapshot(ladder, n_probes=n_probes, n_tokens=60, seed=2)
    out["rescore_probes"] = float(n_probes)
    out["rescore_endpoints"] = float(len(ladder))
    out["rescore_ms"] = _best_ms(lambda: score_snapshot(snapshot), 1 if quick else 2)

    # Incremental: a scorer already holding 1000 results, then one result at a time.
    results = snapshot.results
    warm = min(1000, len(results) - 200)
    scorer = Scorer(snapshot.probes, snapshot.endpoints)
    scorer.add_many(results[:warm])
    for name in scorer.endpoint_names:
        scorer.endpoint_score(name)
    per_update = []
    for result in results[warm : warm + 200]:
        start = time.perf_counter()
        changed = scorer.add(result)
        for name in changed:
            scorer.endpoint_score(name)
        per_update.append((time.perf_counter() - start) * 1000.0)
    out["update_ms_median_at_1000"] = statistics.median(per_update)
    out["update_ms_p90_at_1000"] = float(np.percentile(per_update, 90))

    rng = np.random.default_rng(3)
    words = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]
    groups = [
        (
            [" ".join(rng.choice(words, 6)) for _ in range(10)],
            [" ".join(rng.choice(words, 6)) for _ in range(10)],
        )
        for _ in range(25)
    ]
    out["mmd_25x10x1000_ms"] = _best_ms(lambda: mmd_test(groups, permutations=1000), repeat)

    for key, value in out.items():
        print(f"{key:<32} {value:10.2f}")
    return out
