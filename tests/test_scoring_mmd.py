import numpy as np

from vvtui.scoring import mmd_test
from vvtui.scoring.mmd import hamming_kernel

WORDS = ["red", "green", "blue", "amber", "teal"]


def sample(rng, probs, n):
    return [" ".join(rng.choice(WORDS, size=3, p=probs)) for _ in range(n)]


def test_kernel_is_a_normalised_similarity():
    k = hamming_kernel(["abc", "abd", "", "xyz"])
    assert np.allclose(np.diag(k), 1.0)
    assert np.allclose(k, k.T)
    assert k[0, 1] == 2 / 3 and k[0, 3] == 0.0


def test_p_values_are_uniform_under_the_null():
    p = [0.5, 0.2, 0.15, 0.1, 0.05]
    values = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        groups = [(sample(rng, p, 10), sample(rng, p, 10)) for _ in range(3)]
        values.append(mmd_test(groups, permutations=400, seed=seed).p_value)
    assert sum(v > 0.01 for v in values) >= 90
    # Roughly uniform: no decile holds more than a quarter of the runs.
    counts = np.histogram(values, bins=10, range=(0, 1))[0]
    assert counts.max() <= 25, counts


def test_clearly_different_distributions_get_a_small_p_value():
    rng = np.random.default_rng(1)
    groups = [
        (sample(rng, [0.6, 0.2, 0.1, 0.05, 0.05], 10), sample(rng, [0.05, 0.05, 0.1, 0.2, 0.6], 10))
        for _ in range(25)
    ]
    result = mmd_test(groups, permutations=1000, seed=3)
    assert result.p_value < 0.01
    assert result.p_value >= 1 / 1001  # (1 + #>=) / (1 + B) is never 0
    assert result.effect > result.effect_q95


def test_seeded_and_skips_prompts_with_too_few_samples():
    rng = np.random.default_rng(2)
    groups = [(sample(rng, None, 5), sample(rng, None, 5)), (["only one"], ["a", "b"])]
    a = mmd_test(groups, seed=9)
    b = mmd_test(groups, seed=9)
    assert a == b and a.prompts == 1
    assert mmd_test([(["x"], ["y"])]) is None
