import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vvtui.scoring import compare_tops, position_kl
from vvtui.scoring.logprobs import KLJob, run_kl_jobs

ROW = [("a", -0.2), ("b", -2.0), ("c", -3.0), ("d", -4.0)]


def noisy(row, sigma, rng):
    return [(t, min(0.0, lp + rng.normal(0, sigma))) for t, lp in row]


def test_identical_alternatives_have_zero_kl_and_agree():
    assert position_kl(ROW, ROW) == (0.0, True, False)
    stats = compare_tops([ROW] * 5, [list(ROW)] * 5, upto=5)
    assert stats.kl_mean == 0.0 and stats.top1 == 1.0 and stats.positions == 5


def test_kl_grows_with_noise():
    means = []
    for sigma in (0.05, 0.2, 0.5, 1.0, 2.0):
        rng = np.random.default_rng(7)
        rows = [noisy(ROW, sigma, rng) for _ in range(200)]
        means.append(compare_tops([ROW] * 200, rows, upto=200).kl_mean)
    assert all(x < y for x, y in itertools.pairwise(means)), means
    assert means[0] < 0.01 < means[-1]


def test_minus_9999_is_absent_not_a_probability():
    with_sentinel = [("a", -0.2), ("b", -9999.0)]
    without = [("a", -0.2)]
    assert position_kl(with_sentinel, ROW) == position_kl(without, ROW)
    assert position_kl([("a", -9999.0)], ROW) is None


def test_disjoint_alternatives_use_the_other_bucket_and_stay_finite():
    kl, same, uncertain = position_kl(ROW, [("x", -0.1), ("y", -2.5)])
    assert math.isfinite(kl) and kl > 3
    assert not same and not uncertain


def test_large_missing_mass_is_flagged():
    thin = [("a", -1.0), ("b", -3.0)]  # lists 0.42 of the mass
    _, _, uncertain = position_kl(thin, thin[:1])
    assert uncertain


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from("abcdefgh"), st.floats(-12, 0, allow_nan=False)),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(
        st.lists(
            st.tuples(st.sampled_from("abcdefgh"), st.floats(-12, 0, allow_nan=False)),
            min_size=0,
            max_size=7,
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_batched_jobs_match_single_jobs_exactly(ref_rows, cand_rows):
    n = min(len(ref_rows), len(cand_rows))
    jobs = [
        KLJob("r", ref_rows, f"c{k}", cand_rows, upto) for k, upto in enumerate(range(1, n + 1))
    ]
    run_kl_jobs(jobs)
    for job in jobs:
        single = compare_tops(ref_rows, cand_rows, job.upto)
        assert job.stats == single
        assert job.stats.kl_sum >= 0 and math.isfinite(job.stats.kl_sum)
