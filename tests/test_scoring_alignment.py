import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vvtui.scoring import align
from vvtui.scoring.alignment import (
    SPURIOUS_MAX,
    _lcs,
    _lcs_length,
    align_ids,
    encode_ids,
    match_stats,
)

TOKENS = st.lists(st.sampled_from(list("abcdefg")), max_size=40)


def lcs_length(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
            )
    return table[-1][-1]


def check_ops(a, b, ops):
    i = j = 0
    for op in ops:
        assert (op.i1, op.j1) == (i, j), ops
        assert op.i2 >= op.i1 and op.j2 >= op.j1
        if op.tag == "equal":
            assert a[op.i1 : op.i2] == b[op.j1 : op.j2]
        elif op.tag == "insert":
            assert op.i1 == op.i2 and op.j2 > op.j1
        elif op.tag == "delete":
            assert op.j1 == op.j2 and op.i2 > op.i1
        else:
            assert op.tag == "replace" and op.i2 > op.i1 and op.j2 > op.j1
        i, j = op.i2, op.j2
    assert (i, j) == (len(a), len(b))


@settings(max_examples=300, deadline=None)
@given(TOKENS, TOKENS)
def test_ops_tile_both_sequences_and_equal_blocks_are_equal(a, b):
    result = align(a, b)
    check_ops(a, b, result.ops)
    assert result.matched == lcs_length(a, b)
    assert sum(op.i2 - op.i1 for op in result.ops if op.tag == "equal") <= result.matched
    assert 0.0 <= result.agreement <= 1.0
    # No two equal blocks or two edits are adjacent.
    for x, y in zip(result.ops, result.ops[1:], strict=False):
        assert (x.tag == "equal") != (y.tag == "equal")


@settings(max_examples=200, deadline=None)
@given(TOKENS, TOKENS)
def test_first_divergence_is_the_common_prefix(a, b):
    result = align(a, b)
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    if a == b:
        assert result.first_divergence is None and result.agreement == 1.0
    else:
        assert result.first_divergence == prefix


@settings(max_examples=300, deadline=None)
@given(TOKENS, TOKENS)
def test_bit_parallel_lcs_is_exact(a, b):
    out = []
    ia = np.array([ord(c) for c in a], dtype=np.int64)
    ib = np.array([ord(c) for c in b], dtype=np.int64)
    _lcs(ia, ib, 0, 0, out)
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in out if tag == "equal")
    assert matched == lcs_length(a, b)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(list("abcdefghij")), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_agreement_never_rises_as_corruption_grows(tokens, rnd):
    order = list(range(len(tokens)))
    rnd.shuffle(order)
    previous = 1.0
    corrupted = list(tokens)
    for k, pos in enumerate(order):
        corrupted[pos] = f"fresh{k}"
        agreement = align(tokens, corrupted).agreement
        assert agreement <= previous + 1e-12
        previous = agreement
    assert previous == 0.0


def test_chance_matches_between_unrelated_spans_are_absorbed():
    ref = ["the", "cat", "sat", "on", "the", "mat"]
    cand = ["a", "dog", "ran", "to", "the", "park"]
    result = align(ref, cand)
    # "the" appears in both by chance: it counts in the agreement (a common subsequence) but
    # is not highlighted as a match.
    assert [op.tag for op in result.ops] == ["replace"]
    assert all(op.tag != "equal" or op.i2 - op.i1 > SPURIOUS_MAX for op in result.ops)
    assert result.agreement == 1 / 6


def test_long_answers_with_few_differences_align_to_few_blocks():
    rng = np.random.default_rng(0)
    ref = [f"t{int(x)}" for x in rng.zipf(1.3, 10_000) % 5000]
    cand = list(ref)
    for pos in (10, 2500, 7000):
        cand[pos] = "CHANGED"
    cand[5000:5000] = ["inserted", "words"]
    del cand[8000:8003]
    result = align(ref, cand)
    check_ops(ref, cand, result.ops)
    assert result.first_divergence == 10
    assert len([op for op in result.ops if op.tag != "equal"]) == 5
    assert result.matched == 10_000 - 3 - 3


def test_unrelated_long_answers_still_align():
    rng = np.random.default_rng(1)
    ref = [f"t{int(x)}" for x in rng.zipf(1.3, 5000) % 3000]
    cand = [f"t{int(x)}" for x in rng.zipf(1.3, 5000) % 3000]
    result = align(ref, cand)
    check_ops(ref, cand, result.ops)
    assert result.agreement < 0.5
    matched_in_ops = sum(op.i2 - op.i1 for op in result.ops if op.tag == "equal")
    assert matched_in_ops < result.matched


def test_empty_sides():
    assert align([], []).agreement == 1.0
    assert align(["a"], []).ops[0].tag == "delete"
    assert align([], ["a"]).ops[0].tag == "insert"
    assert align(["a"], []).first_divergence == 0


@settings(max_examples=200, deadline=None)
@given(TOKENS, TOKENS)
def test_counting_path_matches_the_full_alignment(a, b):
    vocab = {}
    ia, ib = encode_ids(a, vocab), encode_ids(b, vocab)
    full = align_ids(ia, ib)
    assert match_stats(ia, ib) == (full.matched, full.first_divergence)


def test_counting_path_matches_on_large_patience_split_regions():
    rng = np.random.default_rng(4)
    ref = [f"t{int(x)}" for x in rng.zipf(1.3, 6000) % 3000]
    cand = [f"t{int(x)}" for x in rng.zipf(1.3, 6000) % 3000]
    vocab = {}
    ia, ib = encode_ids(ref, vocab), encode_ids(cand, vocab)
    full = align_ids(ia, ib)
    assert match_stats(ia, ib) == (full.matched, full.first_divergence)


@settings(max_examples=200, deadline=None)
@given(TOKENS, TOKENS)
def test_lcs_length_on_shared_tokens_is_exact(a, b):
    vocab = {}
    assert _lcs_length(encode_ids(a, vocab).tolist(), encode_ids(b, vocab).tolist()) == (
        lcs_length(a, b)
    )


@pytest.mark.parametrize("n", [511, 512, 513, 700])
def test_counting_path_matches_around_the_list_threshold(n):
    # Answers of up to 512 tokens are counted on lists, longer ones with numpy: same numbers.
    rng = np.random.default_rng(n)
    ref = [f"t{int(x)}" for x in rng.integers(0, 50, n)]
    cand = ref[: n // 3] + [f"t{int(x)}" for x in rng.integers(0, 60, n - n // 3 + 5)]
    vocab = {}
    ia, ib = encode_ids(ref, vocab), encode_ids(cand, vocab)
    full = align_ids(ia, ib)
    assert match_stats(ia, ib) == (full.matched, full.first_divergence)
